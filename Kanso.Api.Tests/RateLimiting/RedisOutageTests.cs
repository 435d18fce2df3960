using System.Collections.Concurrent;
using System.Net;
using Kanso.Api.Infrastructure.Observability;
using Kanso.Api.Infrastructure.RateLimiting;
using Kanso.Api.Infrastructure.Redis;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Tests.RateLimiting;

/// <summary>Stopping and starting the private redis-server under running hosts.</summary>
public sealed class RedisOutageTests(ApiFixture fixture) : RateLimitTest(fixture)
{
    private const string Url = "/api/v1/auth/validate";

    [Fact]
    public async Task Every_request_is_answered_while_redis_is_down_and_shared_limiting_resumes_when_it_returns()
    {
        var (a, b, clientA, clientB) = await TwoHostsAsync(Limits("User", 6, 1));
        await (await clientA.GetAsync(Url)).ShouldBeAsync(200);
        var shared = await clientB.GetAsync(Url);

        await Redis.StopAsync();
        var during = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? clientA : clientB).GetAsync(Url)));
        await RedisStateAsync(a, "unreachable");
        var health = await a.CreateClient().GetAsync("/health");

        Assert.Equal("4", Header(shared, "X-RateLimit-Remaining"));
        Assert.All(during, r => Assert.Contains((int)r.StatusCode, new[] { 200, 429 }));
        Assert.Equal(12, during.Count(r => r.StatusCode == HttpStatusCode.OK)); // 6 from each host's own bucket
        Assert.Equal("degraded", (string?)(await health.ShouldBeAsync(200))["status"]);

        await Redis.StartAgainAsync();
        await RedisStateAsync(a, "connected");
        await RedisStateAsync(b, "connected");

        // Once both draw from Redis again, a fresh user's second request (on the other host) sees the first.
        await TestRows.EventuallyAsync(async () =>
        {
            var fresh = await CreateUserAsync();
            var first = await ClientFor(a, fresh.Id, fresh.Email).GetAsync(Url);
            var second = await ClientFor(b, fresh.Id, fresh.Email).GetAsync(Url);
            Assert.True((int)first.StatusCode < 500 && (int)second.StatusCode < 500);
            return Header(second, "X-RateLimit-Remaining") == "4";
        }, "shared limiting resumes", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Redis_unreachable_at_start_up_means_in_process_buckets_until_it_comes()
    {
        await Redis.StopAsync();
        var settings = Limits("User", 2, 1);
        var host = Host(settings);
        var client = await UserClientAsync(host, waitForRedis: false);

        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((int)(await client.GetAsync(Url)).StatusCode);
        }

        Assert.Equal([200, 200, 429], statuses);
        Assert.Equal("unreachable", await HealthAsync(host));

        await Redis.StartAgainAsync();
        var other = Host(settings);
        await RedisStateAsync(host, "connected");
        await RedisStateAsync(other, "connected");
        await TestRows.EventuallyAsync(async () =>
        {
            var fresh = await CreateUserAsync();
            await ClientFor(host, fresh.Id, fresh.Email).GetAsync(Url);
            var second = await ClientFor(other, fresh.Id, fresh.Email).GetAsync(Url);
            return Header(second, "X-RateLimit-Remaining") == "0";
        }, "shared limiting starts", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Each_switch_between_shared_and_local_limiting_is_logged_once()
    {
        var logger = new CollectingLogger();
        await using var connection = new RedisConnection(Options.Create(new RedisOptions { Configuration = Redis.Configuration }), NullLogger<RedisConnection>.Instance);
        var buckets = new TokenBuckets(connection, new RedisTokenBuckets(), new LocalTokenBuckets(TimeProvider.System), TimeProvider.System, new ServiceMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), logger);
        var policy = new BucketPolicy("user", 1000, 1000);
        Assert.Equal("connected", await connection.GetStateAsync(TimeSpan.FromSeconds(10)));

        for (var i = 0; i < 3; i++)
        {
            await buckets.TakeAsync(policy, "kanso:ratelimit:user:logs", CancellationToken.None);
        }

        await Redis.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            await buckets.TakeAsync(policy, "kanso:ratelimit:user:logs", CancellationToken.None);
        }

        await Redis.StartAgainAsync();
        await TestRows.EventuallyAsync(async () =>
        {
            await buckets.TakeAsync(policy, "kanso:ratelimit:user:logs", CancellationToken.None);
            return buckets.IsShared;
        }, "Redis is used again", TimeSpan.FromSeconds(30));
        await buckets.TakeAsync(policy, "kanso:ratelimit:user:logs", CancellationToken.None);

        Assert.Collection(
            logger.Entries,
            e => Assert.Equal(LogLevel.Information, e.Level),
            e => Assert.Equal(LogLevel.Warning, e.Level),
            e => Assert.Equal(LogLevel.Information, e.Level));
        Assert.Contains("in-process", logger.Entries.ElementAt(1).Message);
    }

    private sealed class CollectingLogger : ILogger<TokenBuckets>
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
