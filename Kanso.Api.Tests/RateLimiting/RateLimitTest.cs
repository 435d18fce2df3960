using System.Net.Http.Json;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.RateLimiting;

/// <summary>
/// Rate-limit tests run their hosts on a private redis-server with small buckets, so the shared
/// fixture's Redis and generous limits stay untouched.
/// </summary>
public abstract class RateLimitTest(ApiFixture fixture) : ApiTest(fixture)
{
    private readonly List<KansoApiFactory> _hosts = [];
    private readonly HashSet<KansoApiFactory> _onPrivateRedis = [];

    protected LocalRedis Redis { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Redis = await LocalRedis.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await Redis.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>A host on the shared database and the private Redis (or <paramref name="redis"/>), with these settings.</summary>
    protected KansoApiFactory Host(Dictionary<string, string?> settings, string? redis = "private")
    {
        var host = new KansoApiFactory(Fixture.ConnectionString, redis == "private" ? Redis.Configuration : redis, settings);
        _hosts.Add(host);
        if (redis == "private")
        {
            _onPrivateRedis.Add(host);
        }

        return host;
    }

    protected static Dictionary<string, string?> Limits(string bucket, int capacity, int perMinute, Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(more ?? [])
        {
            [$"RateLimit:{bucket}:Capacity"] = capacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"RateLimit:{bucket}:PerMinute"] = perMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return settings;
    }

    /// <summary>Two hosts on the private Redis, both connected to it, and one user's client on each.</summary>
    protected async Task<(KansoApiFactory A, KansoApiFactory B, HttpClient ClientA, HttpClient ClientB)> TwoHostsAsync(Dictionary<string, string?> settings)
    {
        var a = Host(settings);
        var b = Host(settings);
        await RedisStateAsync(a, "connected");
        await RedisStateAsync(b, "connected");
        var user = await CreateUserAsync();
        return (a, b, ClientFor(a, user.Id, user.Email), ClientFor(b, user.Id, user.Email));
    }

    /// <summary>A new user in the database and a client of <paramref name="host"/> carrying their token.</summary>
    protected async Task<HttpClient> UserClientAsync(KansoApiFactory host, bool waitForRedis = true)
    {
        if (waitForRedis)
        {
            await ConnectedAsync(host);
        }

        var user = await CreateUserAsync();
        return ClientFor(host, user.Id, user.Email);
    }

    /// <summary>
    /// A host on the private Redis counts in-process until it has connected, then in Redis: a test that
    /// counts requests waits for the connection first, so all of them draw from one bucket.
    /// </summary>
    protected async Task ConnectedAsync(KansoApiFactory host)
    {
        if (_onPrivateRedis.Contains(host))
        {
            await RedisStateAsync(host, "connected");
        }
    }

    /// <summary>Waits (bounded) until the host's /health reports Redis as <paramref name="state"/>.</summary>
    protected static Task RedisStateAsync(KansoApiFactory host, string state) =>
        TestRows.EventuallyAsync(async () => await HealthAsync(host) == state, $"/health shows redis {state}", TimeSpan.FromSeconds(30));

    protected static async Task<string?> HealthAsync(KansoApiFactory host)
    {
        var body = await host.CreateClient().GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/health");
        return (string?)body!["redis"];
    }

    protected static HttpRequestMessage From(string peer, HttpMethod method, string url, object? body = null, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add(TestPeerAddress.Header, peer);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return request;
    }

    protected static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null;
}
