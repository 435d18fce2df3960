using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Sync;

/// <summary>Runs <see cref="SyncPurger"/> every <see cref="SyncOptions.PurgeInterval"/>; a failed run is logged and retried at the next tick.</summary>
internal sealed class SyncPurgeWorker(SyncPurger purger, IOptions<SyncOptions> options, ILogger<SyncPurgeWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PurgeInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var purged = await purger.PurgeAsync(stoppingToken);
                    if (purged.Total > 0)
                    {
                        logger.LogInformation("Sync purge removed {Entries} entry, {Habits} habit and {TimeOff} time off tombstones and {Mutations} processed mutations",
                            purged.Entries, purged.Habits, purged.TimeOff, purged.Mutations);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Sync purge failed; retrying at the next interval");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown.
        }
    }
}
