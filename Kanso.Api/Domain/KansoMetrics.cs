using System.Diagnostics.Metrics;
using Kanso.Api.Infrastructure.Observability;

namespace Kanso.Api.Domain;

/// <summary>
/// Kanso's own metrics about sync, streaks and the purge, on the <see cref="KansoDiagnostics.Name"/>
/// meter. The Prometheus names are the instrument names with dots as underscores, and counters end
/// in <c>_total</c> (README, "Operating Kanso", says what each means and which to alert on). Every
/// series starts at 0, so a rate or an alert works before the first event.
/// </summary>
internal sealed class KansoMetrics
{
    public static readonly string[] MutationStatuses = ["applied", "conflict", "not_found", "rejected", "replayed"];

    private readonly Counter<long> _pushes;
    private readonly Counter<long> _pushMutations;
    private readonly Counter<long> _pullPages;
    private readonly Counter<long> _pullRows;
    private readonly Counter<long> _resyncRequired;
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _streakJobs;
    private readonly Counter<long> _streakQueueFull;
    private readonly Counter<long> _purgeRuns;
    private readonly Counter<long> _purgeRows;
    private Func<int>? _streakQueueDepth;
    private double _sweepLagSeconds;

    public KansoMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(KansoDiagnostics.Name);
        _pushes = meter.CreateCounter<long>("kanso.sync.pushes", description: "Push batches answered 200.");
        _pushMutations = meter.CreateCounter<long>("kanso.sync.push.mutations", description: "Pushed mutations by result status; a retry answered from the stored result counts as replayed.");
        _pullPages = meter.CreateCounter<long>("kanso.sync.pull.pages", description: "Pull pages answered 200.");
        _pullRows = meter.CreateCounter<long>("kanso.sync.pull.rows", description: "Records (habits and entries) in the pull pages answered.");
        _resyncRequired = meter.CreateCounter<long>("kanso.sync.resync_required", description: "Pulls answered 410: the cursor is older than the tombstone retention.");
        _conflicts = meter.CreateCounter<long>("kanso.conflicts", description: "Version conflicts, from the REST routes (409) and from pushes.");
        _streakJobs = meter.CreateCounter<long>("kanso.streak.jobs", description: "Queued streak recomputes by outcome (done, failed).");
        _streakQueueFull = meter.CreateCounter<long>("kanso.streak.queue_full", description: "Streak jobs that did not fit the queue; the sweep catches them up.");
        _purgeRuns = meter.CreateCounter<long>("kanso.purge.runs", description: "Purge runs completed.");
        _purgeRows = meter.CreateCounter<long>("kanso.purge.rows", description: "Rows the purge removed (tombstones and remembered push results).");
        meter.CreateObservableGauge("kanso.streak.queue.depth", () => _streakQueueDepth?.Invoke() ?? 0, description: "Streak jobs waiting in this instance's queue.");
        meter.CreateObservableGauge("kanso.streak.sweep.lag", () => Volatile.Read(ref _sweepLagSeconds), unit: "s", description: "Age of the oldest streak that was due when the last sweep started (0: none was late).");

        foreach (var status in MutationStatuses)
        {
            _pushMutations.Add(0, new KeyValuePair<string, object?>("status", status));
        }

        _conflicts.Add(0, new KeyValuePair<string, object?>("source", "rest"));
        _conflicts.Add(0, new KeyValuePair<string, object?>("source", "push"));
        _streakJobs.Add(0, new KeyValuePair<string, object?>("outcome", "done"));
        _streakJobs.Add(0, new KeyValuePair<string, object?>("outcome", "failed"));
        foreach (var counter in new[] { _pushes, _pullPages, _pullRows, _resyncRequired, _streakQueueFull, _purgeRuns, _purgeRows })
        {
            counter.Add(0);
        }
    }

    /// <summary>Counts one push batch and each of its results (replays as <c>replayed</c>, whatever their first status).</summary>
    public void Pushed(IEnumerable<(string Status, bool Replayed)> results)
    {
        _pushes.Add(1);
        foreach (var (status, replayed) in results)
        {
            _pushMutations.Add(1, new KeyValuePair<string, object?>("status", replayed ? "replayed" : status));
            if (status == "conflict" && !replayed)
            {
                _conflicts.Add(1, new KeyValuePair<string, object?>("source", "push"));
            }
        }
    }

    public void Pulled(int rows)
    {
        _pullPages.Add(1);
        _pullRows.Add(rows);
    }

    public void ResyncRequired() => _resyncRequired.Add(1);

    public void RestConflict() => _conflicts.Add(1, new KeyValuePair<string, object?>("source", "rest"));

    public void StreakJob(bool done) => _streakJobs.Add(1, new KeyValuePair<string, object?>("outcome", done ? "done" : "failed"));

    public void StreakQueueFull() => _streakQueueFull.Add(1);

    public void ObserveStreakQueue(Func<int> depth) => _streakQueueDepth = depth;

    public void SweepLag(TimeSpan lag) => Volatile.Write(ref _sweepLagSeconds, Math.Max(0, lag.TotalSeconds));

    public void Purged(long rows)
    {
        _purgeRuns.Add(1);
        _purgeRows.Add(rows);
    }
}

internal static class KansoMetricsSetup
{
    /// <summary>Kanso's own metrics; exported with the rest by the OpenTelemetry meter provider.</summary>
    public static IServiceCollection AddKansoMetrics(this IServiceCollection services) => services.AddSingleton<KansoMetrics>();
}
