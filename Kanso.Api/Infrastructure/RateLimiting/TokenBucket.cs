namespace Kanso.Api.Infrastructure.RateLimiting;

/// <summary>A named token bucket: up to <see cref="Capacity"/> tokens, refilled continuously at <see cref="PerMinute"/>.</summary>
internal sealed record BucketPolicy(string Name, int Capacity, int PerMinute)
{
    /// <summary>Milliseconds to refill <paramref name="tokens"/> (computed this way round to keep whole results whole).</summary>
    public double MillisecondsFor(double tokens) => tokens * 60_000d / PerMinute;

    public double TokensAfter(double milliseconds) => milliseconds * PerMinute / 60_000d;

    /// <summary>Seconds an empty bucket takes to fill: the window (<c>w</c>) of <c>RateLimit-Policy</c>.</summary>
    public long WindowSeconds => Math.Max(1, (long)Math.Ceiling(Capacity * 60d / PerMinute));
}

/// <param name="Allowed">Whether a token was taken.</param>
/// <param name="Remaining">Whole tokens left after this request.</param>
/// <param name="RetryAfterMs">When refused: milliseconds until one token is back; else 0.</param>
/// <param name="UntilFullMs">Milliseconds until the bucket is full again.</param>
internal readonly record struct BucketDecision(bool Allowed, long Remaining, long RetryAfterMs, long UntilFullMs)
{
    public long RetryAfterSeconds => Math.Max(1, (RetryAfterMs + 999) / 1000);

    public long UntilFullSeconds => (UntilFullMs + 999) / 1000;
}

/// <summary>The bucket's state between requests: tokens left at a moment (milliseconds on some clock).</summary>
internal struct TokenBucketState
{
    public double Tokens;
    public double At;
}

/// <summary>
/// One step of the token bucket, the same arithmetic as <see cref="RedisTokenBuckets.Script"/>, for the
/// in-process buckets that stand in when Redis cannot answer.
/// </summary>
internal static class TokenBucket
{
    public static BucketDecision Take(ref TokenBucketState state, BucketPolicy policy, double nowMs)
    {
        var tokens = Math.Min(policy.Capacity, state.Tokens);
        if (nowMs > state.At)
        {
            tokens = Math.Min(policy.Capacity, tokens + policy.TokensAfter(nowMs - state.At));
            state.At = nowMs;
        }

        var allowed = tokens >= 1;
        long retryAfter = 0;
        if (allowed)
        {
            tokens -= 1;
        }
        else
        {
            retryAfter = (long)Math.Ceiling(policy.MillisecondsFor(1 - tokens));
        }

        state.Tokens = tokens;
        var untilFull = (long)Math.Ceiling(policy.MillisecondsFor(policy.Capacity - tokens));
        return new BucketDecision(allowed, (long)Math.Floor(tokens), retryAfter, untilFull);
    }

    /// <summary>Whether a bucket left alone since its last step is full by now (so it can be forgotten).</summary>
    public static bool IsFull(in TokenBucketState state, BucketPolicy policy, double nowMs) =>
        state.Tokens + policy.TokensAfter(Math.Max(0, nowMs - state.At)) >= policy.Capacity;
}
