using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Observability;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Streaks;

/// <summary>
/// Recomputes streaks: the jobs entry writes queue after they commit (the fast path), and, at
/// start-up and every <see cref="StreakOptions.SweepInterval"/>, every habit left dirty (a full
/// queue, a crash, another instance's write) or whose user's next local day has begun. See
/// <see cref="StreakRecalculator"/> for the locking that keeps instances from repeating each
/// other's work and a crash from losing any.
/// <para>
/// Shutdown drains the queue: the web server stops before this worker (hosted services stop in
/// reverse order of registration, and WebApplication registers the server after the app's own),
/// so once <see cref="StopAsync"/> runs, in-flight requests have finished and no job can arrive.
/// The queue is completed, the jobs in it are done within the host's shutdown timeout, and only
/// then does the worker return. Jobs still queued when the timeout runs out stay dirty in the
/// database for the next instance's sweep.
/// </para>
/// </summary>
internal sealed class StreakWorker(
    StreakQueue queue, StreakRecalculator recalculator, IOptions<StreakOptions> options, KansoMetrics metrics, ILogger<StreakWorker> logger) : BackgroundService
{
    // Never disposed: it has no timer, and the host may dispose this service while a sweep that
    // outlived a shutdown timeout still observes it.
    private readonly CancellationTokenSource _stopSweeping = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var sweepToken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopSweeping.Token);
        var sweeping = SweepPeriodicallyAsync(sweepToken.Token);
        try
        {
            // Ends when the queue is completed and empty (the drain at shutdown); stoppingToken
            // fires only when the host's shutdown timeout has run out.
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                await RunJobAsync(job, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning("Shutdown timeout: {Count} queued streak jobs left to the next sweep", queue.Reader.Count);
        }

        await _stopSweeping.CancelAsync();
        await sweeping;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopSweeping.CancelAsync();
        queue.Complete();
        if (ExecuteTask is { } draining)
        {
            try
            {
                await draining.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The timeout ran out: base.StopAsync cancels what is left.
            }
        }

        await base.StopAsync(cancellationToken);
    }

    private async Task RunJobAsync(StreakJob job, CancellationToken ct)
    {
        using var activity = KansoDiagnostics.ActivitySource.StartActivity("kanso.streak.job");
        try
        {
            await recalculator.RecomputeHabitAsync(job.UserId, job.HabitId, ct);
            metrics.StreakJob(done: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            metrics.StreakJob(done: false);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            logger.LogError(ex, "Streak job failed for habit {HabitId} of user {UserId}; it stays dirty for the sweep", job.HabitId, job.UserId);
        }
    }

    private async Task SweepPeriodicallyAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        try
        {
            do
            {
                try
                {
                    await recalculator.SweepAsync(options.Value.SweepBatchSize, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    logger.LogError(ex, "Streak sweep failed; retrying in {Interval}", options.Value.SweepInterval);
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
