using StackExchange.Redis;

namespace Kanso.Api.Infrastructure.RateLimiting;

/// <summary>
/// Token buckets held in Redis, each updated by one atomic Lua script that reads Redis's own clock
/// (<c>TIME</c>), so app servers whose clocks disagree still draw from one budget. The script is
/// loaded once (<c>SCRIPT LOAD</c>) and run by its SHA (<c>EVALSHA</c>); when Redis has forgotten it
/// (a restart, <c>SCRIPT FLUSH</c>, a failover) it is loaded again and the call repeated.
/// </summary>
internal sealed class RedisTokenBuckets
{
    /// <summary>
    /// KEYS[1] the bucket; ARGV[1] capacity, ARGV[2] tokens per minute. Returns
    /// {allowed 0/1, whole tokens left, ms until one token (when refused), ms until full}.
    /// The state is a hash {t = tokens, at = ms of the last refill}; it expires when the bucket would
    /// be full, since a missing key reads as a full bucket.
    /// </summary>
    public const string Script = """
        if redis.replicate_commands then redis.replicate_commands() end
        local capacity = tonumber(ARGV[1])
        local perMinute = tonumber(ARGV[2])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local state = redis.call('HMGET', KEYS[1], 't', 'at')
        local tokens = tonumber(state[1])
        local at = tonumber(state[2])
        if tokens == nil or at == nil then
          tokens = capacity
          at = now
        end
        tokens = math.min(capacity, tokens)
        if now > at then
          tokens = math.min(capacity, tokens + (now - at) * perMinute / 60000)
          at = now
        end
        local allowed = 0
        local retry = 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        else
          retry = math.ceil((1 - tokens) * 60000 / perMinute)
        end
        local untilFull = math.ceil((capacity - tokens) * 60000 / perMinute)
        redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 'at', string.format('%d', at))
        redis.call('PEXPIRE', KEYS[1], math.max(untilFull, 1))
        return { allowed, math.floor(tokens), retry, untilFull }
        """;

    private volatile byte[]? _sha;

    public async Task<BucketDecision> TakeAsync(IConnectionMultiplexer redis, BucketPolicy policy, string key)
    {
        var database = redis.GetDatabase();
        RedisKey[] keys = [key];
        RedisValue[] args = [policy.Capacity, policy.PerMinute];
        var sha = _sha ?? await LoadAsync(redis);
        RedisResult result;
        try
        {
            result = await database.ScriptEvaluateAsync(sha, keys, args);
        }
        catch (RedisServerException ex) when (IsNoScript(ex))
        {
            sha = await LoadAsync(redis);
            result = await database.ScriptEvaluateAsync(sha, keys, args);
        }

        var values = (RedisResult[])result!;
        return new BucketDecision((long)values[0] == 1, (long)values[1], (long)values[2], (long)values[3]);
    }

    private static bool IsNoScript(RedisServerException ex) =>
        ex.Kind == RedisErrorKind.NoScript || ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    /// <summary>Loads the script on every connected primary (more than one only in a cluster).</summary>
    private async Task<byte[]> LoadAsync(IConnectionMultiplexer redis)
    {
        byte[]? sha = null;
        foreach (var server in redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            sha = await server.ScriptLoadAsync(Script);
        }

        _sha = sha ?? throw new InvalidOperationException("No connected Redis primary to load the rate-limit script on.");
        return sha;
    }
}
