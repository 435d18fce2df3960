using Kanso.Api.Infrastructure.Redis;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace Kanso.Api.Infrastructure.Auth;

/// <summary>
/// Tells every instance that a device session was revoked (sign-out, password change, refresh
/// token reuse), over a Redis channel, so each refuses the session's access tokens at once. Like
/// <see cref="UserRevocations"/>: without Redis the cache's short lifetime is the bound.
/// </summary>
internal sealed class SessionRevocations(RedisConnection redis, IMemoryCache cache, ILogger<SessionRevocations> logger) : BackgroundService
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("kanso:sessions:revoked");

    public void Publish(Guid userId, Guid sessionId)
    {
        if (redis.Multiplexer is { IsConnected: true } mux)
        {
            mux.GetSubscriber().Publish(Channel, $"{userId:N}:{sessionId:N}", CommandFlags.FireAndForget);
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
                    var text = message.ToString();
                    if (text.Length == 65 && Guid.TryParseExact(text[33..], "N", out var sessionId))
                    {
                        DeviceSessions.Forget(cache, sessionId);
                    }
                });
                return;
            }
            catch (RedisException ex)
            {
                logger.LogDebug("Subscribing to session revocations failed ({Message}); retrying", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }
}
