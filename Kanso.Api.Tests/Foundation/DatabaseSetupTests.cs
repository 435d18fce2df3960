using Kanso.Api.Infrastructure.Database;
using Npgsql;

namespace Kanso.Api.Tests.Foundation;

public sealed class DatabaseSetupTests
{
    [Fact]
    public async Task The_pool_is_tuned_when_the_connection_string_leaves_it_to_us()
    {
        await using var dataSource = DatabaseSetup.BuildDataSource("Host=127.0.0.1;Username=u;Database=d");

        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);

        Assert.Equal((64, 2, true, 5), (settings.MaxAutoPrepare, settings.AutoPrepareMinUsages, settings.NoResetOnClose, settings.Timeout));
        Assert.Equal(Math.Max(8, Environment.ProcessorCount * 4), settings.MaxPoolSize);
    }

    [Fact]
    public async Task Explicit_settings_in_the_connection_string_win()
    {
        await using var dataSource = DatabaseSetup.BuildDataSource("Host=127.0.0.1;Username=u;Database=d;Max Auto Prepare=0;NoResetOnClose=false;Maximum Pool Size=3;Timeout=30");

        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);

        Assert.Equal((0, false, 3, 30), (settings.MaxAutoPrepare, settings.NoResetOnClose, settings.MaxPoolSize, settings.Timeout));
    }
}
