using StackExchange.Redis;

namespace Kanso.Api.Infrastructure.Redis;

internal static class RedisSetup
{
    /// <summary>The process's one Redis connection, made in the background (none when Redis__Configuration is empty).</summary>
    public static IServiceCollection AddKansoRedis(this IServiceCollection services)
    {
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.SectionName);
        services.AddSingleton<RedisConnection>();
        return services;
    }
}

internal sealed class RedisOptions
{
    public const string SectionName = "Redis";

    /// <summary>StackExchange.Redis configuration string; empty means no Redis (in-process rate limiting).</summary>
    public string? Configuration { get; set; }
}

/// <summary>
/// One multiplexer for the process, connected in the background: the API starts and serves whether
/// or not Redis answers, and the multiplexer reconnects on its own when Redis comes back.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly Task<IConnectionMultiplexer?> _connecting;

    public RedisConnection(Microsoft.Extensions.Options.IOptions<RedisOptions> options, ILogger<RedisConnection> logger)
    {
        var configuration = options.Value.Configuration;
        IsConfigured = !string.IsNullOrWhiteSpace(configuration);
        _connecting = IsConfigured ? ConnectAsync(configuration!, logger) : Task.FromResult<IConnectionMultiplexer?>(null);
    }

    public bool IsConfigured { get; }

    /// <summary>The multiplexer once created (it may still be disconnected), else null.</summary>
    public IConnectionMultiplexer? Multiplexer => _connecting.IsCompletedSuccessfully ? _connecting.Result : null;

    /// <summary>The multiplexer once the first connection attempt is over (null without Redis).</summary>
    public Task<IConnectionMultiplexer?> WhenCreated => _connecting;

    public bool IsConnected => Multiplexer?.IsConnected == true;

    public string State => !IsConfigured ? "disabled" : IsConnected ? "connected" : "unreachable";

    /// <summary>Waits up to <paramref name="timeout"/> for the first connection attempt, so a fresh process does not report Redis as down.</summary>
    public async Task<string> GetStateAsync(TimeSpan timeout)
    {
        if (IsConfigured && !_connecting.IsCompleted)
        {
            await Task.WhenAny(_connecting, Task.Delay(timeout));
        }

        return State;
    }

    public async ValueTask DisposeAsync()
    {
        if (await _connecting.ConfigureAwait(false) is { } mux)
        {
            await mux.DisposeAsync();
        }
    }

    private static async Task<IConnectionMultiplexer?> ConnectAsync(string configuration, ILogger logger)
    {
        try
        {
            var options = ConfigurationOptions.Parse(configuration);
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
            options.SyncTimeout = Math.Min(options.SyncTimeout, 1000);
            options.AsyncTimeout = Math.Min(options.AsyncTimeout, 1000);
            options.ReconnectRetryPolicy = new LinearRetry(1000);
            return await ConnectionMultiplexer.ConnectAsync(options);
        }
        catch (Exception ex) when (ex is RedisException or ArgumentException)
        {
            logger.LogWarning("Redis is not usable ({Message}); continuing without it.", ex.Message);
            return null;
        }
    }
}
