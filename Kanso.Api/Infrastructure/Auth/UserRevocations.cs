using Kanso.Api.Infrastructure.Observability;
using Kanso.Api.Infrastructure.Redis;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace Kanso.Api.Infrastructure.Auth;

/// <summary>
/// Tells every instance that an account was deleted, over a Redis channel, so each evicts it from
/// its <see cref="KnownUsers"/> cache and the account's tokens stop working everywhere at once.
/// StackExchange.Redis re-subscribes after a reconnect; without Redis the cache's short lifetime
/// is the bound.
/// </summary>
internal sealed class UserRevocations(RedisConnection redis, IMemoryCache cache, ServiceMetrics metrics, ILogger<UserRevocations> logger) : BackgroundService
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("kanso:users:deleted");

    private long _evictions;

    /// <summary>How many evictions this instance has made; a lookup that saw it change while it ran must not keep its fill.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Drops the account from this instance's cache (counted first, so a racing fill sees it).</summary>
    public void Evict(Guid userId)
    {
        Interlocked.Increment(ref _evictions);
        cache.Remove(KnownUsers.Key(userId));
    }

    public void Publish(Guid userId)
    {
        if (redis.Multiplexer is { IsConnected: true } mux)
        {
            mux.GetSubscriber().Publish(Channel, userId.ToString("N"), CommandFlags.FireAndForget);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (await redis.WhenCreated is not { } mux)
        {
            return;
        }

        var delay = TimeSpan.FromSeconds(2);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await mux.GetSubscriber().SubscribeAsync(Channel, (_, message) =>
                {
                    if (Guid.TryParseExact(message.ToString(), "N", out var userId))
                    {
                        Evict(userId);
                        metrics.RevocationEviction();
                    }
                });
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Not only RedisException: a Redis that accepts and never answers times out, and any
                // failure here must leave the host serving (the cache's short lifetime is the bound meanwhile).
                logger.LogWarning("Subscribing to account deletions failed ({Error}: {Message}); retrying in {Delay} s",
                    ex.GetType().Name, ex.Message, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromSeconds(Math.Min(30, delay.TotalSeconds * 2));
            }
        }
    }
}
