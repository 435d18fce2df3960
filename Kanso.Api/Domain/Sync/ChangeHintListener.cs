using Kanso.Api.Infrastructure.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Kanso.Api.Domain.Sync;

/// <summary>
/// One dedicated PostgreSQL connection per instance that <c>LISTEN</c>s on
/// <see cref="ChangeHints.Channel"/> and hands each hint to <see cref="ChangeHintHub"/>. The
/// connection is outside the pool (it is never shared) and is checked every
/// <see cref="PingInterval"/> when idle; when it fails the listener reconnects with a short backoff,
/// and once listening again wakes every stream and held pull of this instance, since hints may
/// have been lost in between.
/// </summary>
internal sealed class ChangeHintListener(IOptions<DatabaseOptions> database, ChangeHintHub hub, ILogger<ChangeHintListener> logger) : BackgroundService
{
    public const string ApplicationName = "kanso-change-hints";

    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private volatile bool _listening;

    /// <summary>True while the listening connection is up.</summary>
    public bool Listening => _listening;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var csb = new NpgsqlConnectionStringBuilder(database.Value.Postgres)
        {
            Pooling = false,
            ApplicationName = ApplicationName,
            KeepAlive = 10,
            Timeout = 5,
            CommandTimeout = 5,
        };
        var connectionString = csb.ConnectionString;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (ChangeHints.TryParse(e.Payload, out var userId, out var deleted))
                    {
                        hub.Signal(userId, deleted);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {ChangeHints.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                _listening = true;
                if (failures > 0)
                {
                    logger.LogInformation("Listening for change hints again");
                }

                failures = 0;
                hub.SignalAll();
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(PingInterval, stoppingToken))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", connection);
                        await ping.ExecuteNonQueryAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                _listening = false;
                if (failures++ == 0)
                {
                    logger.LogWarning("The change-hint connection failed ({Message}); reconnecting", ex.Message);
                }

                try
                {
                    await Task.Delay(RetryDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
