using System.Collections.Concurrent;

namespace Kanso.Api.Infrastructure.RateLimiting;

/// <summary>
/// In-process token buckets, for when Redis is not configured or does not answer: the same algorithm,
/// on this process's monotonic clock, so each instance then limits on its own.
/// </summary>
internal sealed class LocalTokenBuckets(TimeProvider time)
{
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private long _lastSweep = time.GetTimestamp();

    public int Count => _buckets.Count;

    public BucketDecision Take(BucketPolicy policy, string key)
    {
        var now = NowMs();
        SweepIfDue();
        var bucket = _buckets.GetOrAdd(key, static (_, arg) => new Bucket(arg.policy, arg.now), (policy, now));
        lock (bucket)
        {
            bucket.Policy = policy;
            return TokenBucket.Take(ref bucket.State, policy, now);
        }
    }

    /// <summary>
    /// Forgets buckets that have refilled (as Redis lets full keys expire), so memory follows the
    /// number of recent callers, not every address ever seen. A bucket removed while another request
    /// updates it loses at most that one token, from a bucket that was full anyway.
    /// </summary>
    private void SweepIfDue()
    {
        var last = Interlocked.Read(ref _lastSweep);
        if (time.GetElapsedTime(last) < SweepEvery || Interlocked.CompareExchange(ref _lastSweep, time.GetTimestamp(), last) != last)
        {
            return;
        }

        var now = NowMs();
        foreach (var (key, bucket) in _buckets)
        {
            bool full;
            lock (bucket)
            {
                full = TokenBucket.IsFull(bucket.State, bucket.Policy, now);
            }

            if (full)
            {
                _buckets.TryRemove(new KeyValuePair<string, Bucket>(key, bucket));
            }
        }
    }

    private double NowMs() => time.GetTimestamp() * 1000d / time.TimestampFrequency;

    private sealed class Bucket(BucketPolicy policy, double now)
    {
        public TokenBucketState State = new() { Tokens = policy.Capacity, At = now };

        public BucketPolicy Policy { get; set; } = policy;
    }
}
