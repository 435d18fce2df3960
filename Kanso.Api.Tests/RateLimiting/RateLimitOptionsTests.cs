using Kanso.Api.Infrastructure.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Tests.RateLimiting;

public sealed class RateLimitOptionsTests
{
    [Fact]
    public void Defaults_are_the_contract_values()
    {
        var options = Read([]);

        Assert.Equal((120, 120), (options.User.Capacity, options.User.PerMinute));
        Assert.Equal((30, 30), (options.Ip.Capacity, options.Ip.PerMinute));
        Assert.Equal((5, 5), (options.Login.Capacity, options.Login.PerMinute));
        Assert.Empty(options.TrustedProxies);
        Assert.True(new RateLimitOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData("RateLimit:User:Capacity", "0", "RateLimit__User__Capacity")]
    [InlineData("RateLimit:Ip:PerMinute", "-5", "RateLimit__Ip__PerMinute")]
    [InlineData("RateLimit:Login:Capacity", "99999999999", "RateLimit__Login__Capacity")]
    [InlineData("RateLimit:Login:PerMinute", "fast", "RateLimit__Login__PerMinute")]
    [InlineData("RateLimit:User:PerMinute", "1.5", "RateLimit__User__PerMinute")]
    [InlineData("RateLimit:TrustedProxies", "10.0.0.1,proxy.local", "RateLimit__TrustedProxies")]
    public void Invalid_setting_fails_naming_its_key(string key, string value, string named)
    {
        var result = new RateLimitOptionsValidator().Validate(null, Read(new() { [key] = value }));

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith(named + " ", failure);
    }

    [Fact]
    public void Invalid_setting_stops_the_options_pipeline_naming_its_key()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(Configuration(new() { ["RateLimit:User:Capacity"] = "many" }));
        services.AddKansoRateLimiting();
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RateLimitOptions>>().Value);

        Assert.Contains("RateLimit__User__Capacity", ex.Message);
    }

    [Fact]
    public void Trusted_proxies_are_read_from_one_comma_separated_value_or_a_list()
    {
        var single = Read(new() { ["RateLimit:TrustedProxies"] = "10.0.0.1, 10.1.0.0/16" });
        var list = Read(new() { ["RateLimit:TrustedProxies:0"] = "10.0.0.1", ["RateLimit:TrustedProxies:1"] = "::1" });

        Assert.Equal(["10.0.0.1", "10.1.0.0/16"], single.TrustedProxies);
        Assert.Equal(["10.0.0.1", "::1"], list.TrustedProxies);
    }

    [Fact]
    public void Window_is_the_time_an_empty_bucket_takes_to_fill()
    {
        Assert.Equal(60, new BucketPolicy("user", 120, 120).WindowSeconds);
        Assert.Equal(300, new BucketPolicy("login", 5, 1).WindowSeconds);
        Assert.Equal(1, new BucketPolicy("fast", 1, 6000).WindowSeconds);
    }

    private static RateLimitOptions Read(Dictionary<string, string?> settings)
    {
        var options = new RateLimitOptions();
        options.ReadFrom(Configuration(settings));
        return options;
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}

public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    public void Client_address_is_the_peer_with_ipv6_grouped_by_64(string peer, string expected)
    {
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(peer);

        Assert.Equal(expected, KansoRateLimiter.ClientAddress(http));
    }
}
