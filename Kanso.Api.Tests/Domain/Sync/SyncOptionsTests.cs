using Kanso.Api;
using Kanso.Api.Domain.Sync;
using Microsoft.Extensions.Configuration;

namespace Kanso.Api.Tests.Domain.Sync;

public sealed class SyncOptionsTests
{
    [Fact]
    public void Defaults_keep_tombstones_and_mutations_30_days()
    {
        var options = new SyncOptions();

        var result = new SyncOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded);
        Assert.Equal((TimeSpan.FromDays(30), TimeSpan.FromDays(30)), (options.TombstoneRetention, options.MutationRetention));
    }

    [Fact]
    public void Mutations_are_remembered_at_least_as_long_as_tombstones()
    {
        var options = new SyncOptions { TombstoneRetention = TimeSpan.FromDays(90), MutationRetention = TimeSpan.FromDays(7) };

        Assert.Equal(TimeSpan.FromDays(90), options.MutationMemory);
        Assert.Equal(TimeSpan.FromDays(120), new SyncOptions { MutationRetention = TimeSpan.FromDays(120) }.MutationMemory);
    }

    [Theory]
    [InlineData("Sync:TombstoneRetention", "00:30:00", "Sync__TombstoneRetention")]
    [InlineData("Sync:TombstoneRetention", "thirty days", "Sync__")]
    [InlineData("Sync:MutationRetention", "-1.00:00:00", "Sync__MutationRetention")]
    [InlineData("Sync:PurgeInterval", "00:00:00", "Sync__PurgeInterval")]
    [InlineData("Sync:PurgeBatchSize", "0", "Sync__PurgeBatchSize")]
    public void A_bad_setting_stops_start_up_naming_it(string key, string value, string named)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "Host=localhost;Username=u;Database=d",
            ["Jwt:SigningKey"] = "kanso-tests-signing-key-0123456789-abcdef",
            [key] = value,
        }).Build();

        var failures = StartupCheck.Failures(configuration);

        Assert.Contains(failures, f => f.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public void A_longer_retention_is_accepted()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "Host=localhost;Username=u;Database=d",
            ["Jwt:SigningKey"] = "kanso-tests-signing-key-0123456789-abcdef",
            ["Sync:TombstoneRetention"] = "90.00:00:00",
        }).Build();

        Assert.Empty(StartupCheck.Failures(configuration));
    }
}
