using System.Threading.Channels;
using Kanso.Api.Domain.Records;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Streaks;

/// <summary>A habit whose streaks need recomputing.</summary>
internal readonly record struct StreakJob(Guid UserId, Guid HabitId);

/// <summary>
/// The bounded in-memory queue between entry writes and the streak worker. It is only the fast
/// path: every entry write also marks its habit <c>streak_dirty</c> in the same transaction, so a
/// job that does not fit (queue full) or is lost (crash) is found again by the worker's sweep of
/// dirty habits. Writers therefore never block or fail on a full queue; a job that did not fit
/// asks the worker for a sweep as soon as the queue is empty (<see cref="TakeOverflow"/>).
/// </summary>
internal sealed class StreakQueue
{
    private readonly KansoMetrics _metrics;
    private readonly Channel<StreakJob> _channel;
    private int _overflowed;

    public StreakQueue(KansoMetrics metrics, IOptions<StreakOptions> options)
    {
        _metrics = metrics;
        _channel = Channel.CreateBounded<StreakJob>(new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
        metrics.ObserveStreakQueue(() => _channel.Reader.Count);
    }

    public ChannelReader<StreakJob> Reader => _channel.Reader;

    /// <summary>Call after the write's transaction has committed.</summary>
    /// <returns>False when the queue is full; the habit stays dirty in the database and the sweep picks it up.</returns>
    public bool TryEnqueue(Guid userId, Guid habitId)
    {
        if (_channel.Writer.TryWrite(new StreakJob(userId, habitId)))
        {
            return true;
        }

        Volatile.Write(ref _overflowed, 1);
        _metrics.StreakQueueFull();
        return false;
    }

    /// <summary>Whether a job did not fit since the last call: its habit waits, dirty, for a sweep.</summary>
    public bool TakeOverflow() => Interlocked.Exchange(ref _overflowed, 0) == 1;

    /// <summary>Queues the recompute a committed write asks for (<see cref="WriteResult{T}.StreakHabitId"/>), if any.</summary>
    public void EnqueueAfterCommit<T>(Guid userId, WriteResult<T> result)
        where T : class, IStreakInput
    {
        if (result.StreakHabitId is { } habitId)
        {
            TryEnqueue(userId, habitId);
        }
    }

    /// <summary>No more jobs will be written (shutdown); the reader drains what is queued.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
