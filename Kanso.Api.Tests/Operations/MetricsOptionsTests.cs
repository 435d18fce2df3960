using Microsoft.Extensions.Configuration;

namespace Kanso.Api.Tests.Operations;

public sealed class MetricsOptionsTests
{
    [Theory]
    [InlineData("Metrics:Path", "metrics", "Metrics__Path")]
    [InlineData("Metrics:Path", "/metrics?x=1", "Metrics__Path")]
    [InlineData("Metrics:Port", "0", "Metrics__Port")]
    [InlineData("Metrics:Port", "70000", "Metrics__Port")]
    [InlineData("Metrics:Port", "nine", "Metrics__")]
    [InlineData("Metrics:Enabled", "sometimes", "Metrics__")]
    public void A_bad_metrics_setting_stops_start_up_naming_it(string key, string value, string named)
    {
        var failures = StartupCheck.Failures(Configuration((key, value)));

        Assert.Contains(failures, f => f.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public void Metrics_on_another_path_and_port_are_accepted()
    {
        Assert.Empty(StartupCheck.Failures(Configuration(("Metrics:Path", "/internal/metrics"), ("Metrics:Port", "9464"))));
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "Host=localhost;Username=u;Database=d",
            ["Jwt:SigningKey"] = "kanso-tests-signing-key-0123456789-abcdef",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
