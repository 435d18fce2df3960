using System.Threading.Channels;
using Kanso.Api.Infrastructure.Observability;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Streaks;

/// <summary>
/// Recomputes streaks: the jobs entry writes queue after they commit (the fast path), and, at
/// start-up and every <see cref="StreakOptions.SweepInterval"/>, every habit left dirty (a full
/// queue, a crash, another instance's write) or whose user's next local day has begun. When jobs
/// did not fit the queue (a burst of writes), a sweep also runs as soon as the queue is empty, so
/// their habits are not left waiting for the interval. See
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

    // What wakes the sweeper: the interval's tick, or the queue emptied after jobs did not fit. One
    // pending request at most: requests made while a sweep runs become one more sweep.
    private readonly Channel<bool> _sweepNow = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var sweepToken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopSweeping.Token);
        var sweeping = SweepPeriodicallyAsync(sweepToken.Token);
        try
        {
            // Ends when the queue is completed and empty (the drain at shutdown); stoppingToken
            // fires only when the host's shutdown timeout has run out.
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                if (options.Value.CoalesceWindow > TimeSpan.Zero)
                {
                    await Task.Delay(options.Value.CoalesceWindow, stoppingToken);
                }

                // One transaction per user, several users at a time: each holds only its own user's
                // lock, and a batch names each user once, so one user waiting for a lock held
                // elsewhere no longer holds up the rest of the batch.
                await Parallel.ForEachAsync(
                    TakeBatch(queue.Reader, options.Value.CoalesceBatchSize),
                    new ParallelOptions { MaxDegreeOfParallelism = options.Value.Concurrency, CancellationToken = stoppingToken },
                    (job, ct) => new ValueTask(RunJobAsync(job.UserId, job.HabitIds, job.Jobs, ct)));

                if (queue.Reader.Count == 0 && queue.TakeOverflow())
                {
                    _sweepNow.Writer.TryWrite(true);
                }
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

    /// <summary>
    /// Takes what is queued, up to <paramref name="max"/> jobs, as one recompute per user (in the
    /// order the users' first jobs came) of the distinct habits their jobs name: several writes to
    /// one habit become one recompute, several habits of one user one transaction.
    /// </summary>
    internal static List<(Guid UserId, Guid[] HabitIds, int Jobs)> TakeBatch(System.Threading.Channels.ChannelReader<StreakJob> reader, int max)
    {
        var byUser = new Dictionary<Guid, (List<Guid> Habits, int Jobs)>();
        var order = new List<Guid>();
        for (var taken = 0; taken < max && reader.TryRead(out var job); taken++)
        {
            if (!byUser.TryGetValue(job.UserId, out var user))
            {
                user = ([], 0);
                order.Add(job.UserId);
            }

            if (!user.Habits.Contains(job.HabitId))
            {
                user.Habits.Add(job.HabitId);
            }

            byUser[job.UserId] = (user.Habits, user.Jobs + 1);
        }

        return [.. order.Select(u => (u, byUser[u].Habits.ToArray(), byUser[u].Jobs))];
    }

    private async Task RunJobAsync(Guid userId, Guid[] habitIds, int jobs, CancellationToken ct)
    {
        using var activity = KansoDiagnostics.ActivitySource.StartActivity("kanso.streak.job");
        try
        {
            await recalculator.RecomputeHabitsAsync(userId, habitIds, ct);
            for (var i = 0; i < jobs; i++)
            {
                metrics.StreakJob(done: true);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            for (var i = 0; i < jobs; i++)
            {
                metrics.StreakJob(done: false);
            }

            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            logger.LogError(ex, "Streak job failed for habits {HabitIds} of user {UserId}; they stay dirty for the sweep", habitIds, userId);
        }
    }

    private async Task SweepPeriodicallyAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        var ticking = TickAsync(timer, ct);
        try
        {
            do
            {
                try
                {
                    await recalculator.SweepAsync(options.Value.SweepBatchSize, ct, options.Value.Concurrency);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    logger.LogError(ex, "Streak sweep failed; retrying in {Interval}", options.Value.SweepInterval);
                }
            }
            while (await _sweepNow.Reader.ReadAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        await ticking;
    }

    private async Task TickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                _sweepNow.Writer.TryWrite(true);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
