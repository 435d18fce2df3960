using Kanso.Api.Infrastructure.Observability;
using Kanso.Api.Infrastructure.Redis;

namespace Kanso.Api.Infrastructure.RateLimiting;

/// <summary>
/// Takes a token from Redis when it answers, else from the in-process buckets, so no request ever
/// fails or waits long because of Redis. A disconnected multiplexer is skipped at once; a call that
/// fails or outlasts <see cref="RedisTimeout"/> is answered locally, and Redis is left alone for
/// <see cref="RedisBackoff"/> so that a hanging server does not slow every request. Each switch
/// between shared and local limiting is logged once.
/// </summary>
internal sealed class TokenBuckets(RedisConnection redis, RedisTokenBuckets shared, LocalTokenBuckets local, TimeProvider time, ServiceMetrics metrics, ILogger<TokenBuckets> logger)
{
    public static readonly TimeSpan RedisTimeout = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan RedisBackoff = TimeSpan.FromSeconds(2);

    private const int Unknown = 0;
    private const int Shared = 1;
    private const int Local = 2;

    private int _mode = Unknown;
    private long _skipRedisUntil;

    /// <summary>Whether the last decision came from Redis.</summary>
    public bool IsShared => Volatile.Read(ref _mode) == Shared;

    public async ValueTask<BucketDecision> TakeAsync(BucketPolicy policy, string key, CancellationToken ct)
    {
        var (decision, fromRedis) = await DecideAsync(policy, key, ct);
        metrics.RateLimitDecision(policy.Name, fromRedis, decision.Allowed);
        return decision;
    }

    private async ValueTask<(BucketDecision Decision, bool FromRedis)> DecideAsync(BucketPolicy policy, string key, CancellationToken ct)
    {
        var multiplexer = redis.IsConnected ? redis.Multiplexer : null;
        if (multiplexer is null)
        {
            UseLocal(redis.IsConfigured ? "Redis is unreachable" : "Redis is not configured", redis.IsConfigured ? LogLevel.Warning : LogLevel.Information);
            return (local.Take(policy, key), false);
        }

        if (time.GetTimestamp() < Interlocked.Read(ref _skipRedisUntil))
        {
            return (local.Take(policy, key), false);
        }

        var call = shared.TakeAsync(multiplexer, policy, key);
        try
        {
            var decision = await call.WaitAsync(RedisTimeout, time, ct);
            UseShared();
            return (decision, true);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // Whatever went wrong (timeout, connection, server error), this request is answered locally.
            // A call left behind by the timeout may still fail later; its error is observed, not raised.
            _ = call.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            Interlocked.Exchange(ref _skipRedisUntil, time.GetTimestamp() + (long)(RedisBackoff.TotalSeconds * time.TimestampFrequency));
            UseLocal($"Redis did not answer ({ex.GetType().Name}: {ex.Message})", LogLevel.Warning);
            return (local.Take(policy, key), false);
        }
    }

    private void UseLocal(string reason, LogLevel level)
    {
        if (Interlocked.Exchange(ref _mode, Local) != Local)
        {
            logger.Log(level, "Rate limiting uses in-process token buckets: {Reason}. Each instance limits on its own until Redis answers.", reason);
        }
    }

    private void UseShared()
    {
        if (Interlocked.Exchange(ref _mode, Shared) != Shared)
        {
            logger.LogInformation("Rate limiting uses the shared token buckets in Redis.");
        }
    }
}
