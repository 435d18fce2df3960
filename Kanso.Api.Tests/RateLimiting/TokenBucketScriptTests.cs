using Kanso.Api.Infrastructure.RateLimiting;
using Kanso.Api.Tests.Infrastructure;
using StackExchange.Redis;

namespace Kanso.Api.Tests.RateLimiting;

/// <summary>The Lua token bucket against a private redis-server.</summary>
public sealed class TokenBucketScriptTests : IAsyncLifetime
{
    private LocalRedis _redis = null!;
    private ConnectionMultiplexer _connection = null!;
    private readonly RedisTokenBuckets _buckets = new();

    public async Task InitializeAsync()
    {
        _redis = await LocalRedis.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync($"{_redis.Configuration},allowAdmin=true");
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Bucket_empties_then_refills_at_the_configured_rate()
    {
        // One token a minute: the four takes meet an empty bucket unless a minute passes between them.
        var slow = new BucketPolicy("test", Capacity: 3, PerMinute: 1);
        var key = NewKey();

        var taken = new List<BucketDecision>();
        for (var i = 0; i < 4; i++)
        {
            taken.Add(await _buckets.TakeAsync(_connection, slow, key));
        }

        Assert.Equal([true, true, true, false], taken.Select(d => d.Allowed));
        Assert.Equal([2L, 1L, 0L, 0L], taken.Select(d => d.Remaining));
        Assert.InRange(taken[3].RetryAfterMs, 1, 60_000);
        Assert.InRange(taken[3].UntilFullMs, 120_001, 180_000);

        // Ten tokens a second: a drawn bucket refills, and once full its key expires (then the whole capacity is there again).
        var fast = new BucketPolicy("test", Capacity: 3, PerMinute: 600);
        var other = NewKey();
        Assert.True((await _buckets.TakeAsync(_connection, fast, other)).Allowed);

        await TestRows.EventuallyAsync(async () => !await _connection.GetDatabase().KeyExistsAsync(other), "the full bucket's key expires", TimeSpan.FromSeconds(30));
        var refilled = new List<BucketDecision>();
        for (var i = 0; i < 3; i++)
        {
            refilled.Add(await _buckets.TakeAsync(_connection, fast, other));
        }

        Assert.All(refilled, d => Assert.True(d.Allowed));
    }

    [Fact]
    public async Task Two_hundred_concurrent_takes_from_a_budget_of_fifty_admit_exactly_fifty()
    {
        var policy = new BucketPolicy("test", Capacity: 50, PerMinute: 1);
        var key = NewKey();

        var decisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => _buckets.TakeAsync(_connection, policy, key))));

        Assert.Equal(50, decisions.Count(d => d.Allowed));
        Assert.Equal(150, decisions.Count(d => !d.Allowed));
    }

    [Fact]
    public async Task Script_is_loaded_again_when_redis_has_forgotten_it()
    {
        var policy = new BucketPolicy("test", Capacity: 5, PerMinute: 1);
        var key = NewKey();
        await _buckets.TakeAsync(_connection, policy, key);

        await _connection.GetServers()[0].ScriptFlushAsync();
        var after = await _buckets.TakeAsync(_connection, policy, key);

        Assert.True(after.Allowed);
        Assert.Equal(3, after.Remaining);
    }

    [Fact]
    public async Task Bucket_state_is_stamped_with_the_redis_clock()
    {
        var policy = new BucketPolicy("test", Capacity: 5, PerMinute: 1);
        var key = NewKey();

        await _buckets.TakeAsync(_connection, policy, key);
        var stamped = (long)await _connection.GetDatabase().HashGetAsync(key, "at");
        var redisNow = await _connection.GetServers()[0].TimeAsync();

        Assert.InRange(new DateTimeOffset(redisNow).ToUnixTimeMilliseconds() - stamped, 0, 5_000);
        Assert.True(await _connection.GetDatabase().KeyTimeToLiveAsync(key) > TimeSpan.Zero);
    }

    private static string NewKey() => $"kanso:ratelimit:test:{Guid.NewGuid():N}";
}

/// <summary>The same algorithm in process, on a clock the test moves.</summary>
public sealed class LocalTokenBucketTests
{
    private readonly ManualTime _time = new();

    [Fact]
    public void Bucket_empties_then_refills_at_the_configured_rate()
    {
        var buckets = new LocalTokenBuckets(_time);
        var policy = new BucketPolicy("test", Capacity: 3, PerMinute: 600);

        var taken = Enumerable.Range(0, 4).Select(_ => buckets.Take(policy, "k")).ToList();
        _time.Advance(TimeSpan.FromMilliseconds(99));
        var early = buckets.Take(policy, "k");
        _time.Advance(TimeSpan.FromMilliseconds(2));
        var onTime = buckets.Take(policy, "k");

        Assert.Equal([true, true, true, false], taken.Select(d => d.Allowed));
        Assert.Equal(100, taken[3].RetryAfterMs);
        Assert.Equal(300, taken[3].UntilFullMs);
        Assert.False(early.Allowed);
        Assert.True(onTime.Allowed);
    }

    [Fact]
    public void Full_buckets_are_forgotten()
    {
        var buckets = new LocalTokenBuckets(_time);
        var policy = new BucketPolicy("test", Capacity: 3, PerMinute: 600);
        buckets.Take(policy, "a");
        buckets.Take(policy, "b");

        _time.Advance(TimeSpan.FromMinutes(2));
        buckets.Take(policy, "c");

        Assert.Equal(1, buckets.Count);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
