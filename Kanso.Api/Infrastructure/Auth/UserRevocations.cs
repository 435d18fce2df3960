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

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await mux.GetSubscriber().SubscribeAsync(Channel, (_, message) =>
                {
                    if (Guid.TryParseExact(message.ToString(), "N", out var userId))
                    {
                        cache.Remove(KnownUsers.Key(userId));
                        metrics.RevocationEviction();
                    }
                });
                return;
            }
            catch (RedisException ex)
            {
                logger.LogDebug("Subscribing to account deletions failed ({Message}); retrying", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }
}
