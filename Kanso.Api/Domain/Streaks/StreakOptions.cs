using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Streaks;

/// <summary>The streak worker's sweep and job batching, bound from <c>Streaks</c> (<c>Streaks__SweepInterval</c>, <c>Streaks__SweepBatchSize</c>, ...).</summary>
internal sealed class StreakOptions
{
    public const string SectionName = "Streaks";

    /// <summary>How often the worker takes dirty habits and habits whose next local day has begun.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Users a sweep claims per query.</summary>
    public int SweepBatchSize { get; set; } = 100;

    /// <summary>
    /// How long the worker waits after a job arrives before it takes what is queued, so a burst of
    /// writes to one habit becomes one recompute (<c>Streaks__CoalesceWindow</c>; 0: no wait, jobs
    /// queued meanwhile are still taken together).
    /// </summary>
    public TimeSpan CoalesceWindow { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Queued jobs the worker takes at once, at most (<c>Streaks__CoalesceBatchSize</c>).</summary>
    public int CoalesceBatchSize { get; set; } = 256;

    /// <summary>
    /// Users recomputed at the same time, at most, by a batch of jobs or a sweep
    /// (<c>Streaks__Concurrency</c>); each takes a pooled connection while it runs. A recompute
    /// mostly waits on its round trips, so by default two per core, half the default pool: one per
    /// core left the worker so far behind a burst of writes that it caught up long after the burst
    /// (bench/RESULTS.md).
    /// </summary>
    public int Concurrency { get; set; } = Math.Clamp(2 * Environment.ProcessorCount, 2, 64);

    /// <summary>
    /// Jobs the in-memory queue holds (<c>Streaks__QueueCapacity</c>). A write whose job does not fit
    /// still marks its habit dirty; the worker sweeps those as soon as it has emptied the queue.
    /// </summary>
    public int QueueCapacity { get; set; } = 10_000;
}

internal sealed class StreakOptionsValidator : IValidateOptions<StreakOptions>
{
    public ValidateOptionsResult Validate(string? name, StreakOptions options)
    {
        var failures = new List<string>();
        if (options.SweepInterval < TimeSpan.FromMilliseconds(10) || options.SweepInterval > TimeSpan.FromDays(1))
        {
            failures.Add("Streaks__SweepInterval must be between 00:00:00.01 and 1.00:00:00.");
        }

        if (options.SweepBatchSize is < 1 or > 10_000)
        {
            failures.Add("Streaks__SweepBatchSize must be between 1 and 10000.");
        }

        if (options.CoalesceWindow < TimeSpan.Zero || options.CoalesceWindow > TimeSpan.FromSeconds(1))
        {
            failures.Add("Streaks__CoalesceWindow must be between 00:00:00 and 00:00:01.");
        }

        if (options.CoalesceBatchSize is < 1 or > 10_000)
        {
            failures.Add("Streaks__CoalesceBatchSize must be between 1 and 10000.");
        }

        if (options.Concurrency is < 1 or > 64)
        {
            failures.Add("Streaks__Concurrency must be between 1 and 64.");
        }

        if (options.QueueCapacity is < 1 or > 1_000_000)
        {
            failures.Add("Streaks__QueueCapacity must be between 1 and 1000000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
