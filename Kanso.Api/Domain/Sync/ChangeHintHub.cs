namespace Kanso.Api.Domain.Sync;

/// <summary>
/// This instance's open streams and held pulls, by user, woken by the hints
/// <see cref="ChangeHintListener"/> receives. Holds no database connection: a waiter is a small
/// object with a flag, so ten thousand idle streams cost memory, not connections or threads.
/// </summary>
internal sealed class ChangeHintHub(IHostApplicationLifetime lifetime)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, List<ChangeSubscription>> _byUser = [];

    /// <summary>
    /// Starts listening for <paramref name="userId"/>'s hints; subscribe before reading, so a change
    /// that commits after the read is never missed. Null when <paramref name="streamLimit"/> is given
    /// and the user already holds that many streams here.
    /// </summary>
    public ChangeSubscription? TrySubscribe(Guid userId, int? streamLimit = null)
    {
        var subscription = new ChangeSubscription(this, userId, IsStream: streamLimit is not null);
        lock (_gate)
        {
            if (!_byUser.TryGetValue(userId, out var list))
            {
                list = [];
                _byUser[userId] = list;
            }

            if (streamLimit is { } limit && list.Count(s => s.IsStream) >= limit)
            {
                if (list.Count == 0)
                {
                    _byUser.Remove(userId);
                }

                return null;
            }

            list.Add(subscription);
        }

        return subscription;
    }

    /// <summary>A change of <paramref name="userId"/> committed (on any instance).</summary>
    public void Signal(Guid userId, bool accountDeleted)
    {
        ChangeSubscription[] targets;
        lock (_gate)
        {
            if (!_byUser.TryGetValue(userId, out var list))
            {
                return;
            }

            targets = [.. list];
        }

        foreach (var subscription in targets)
        {
            subscription.Signal(accountDeleted);
        }
    }

    /// <summary>Hints may have been missed (the listening connection was lost): wake everyone; a spurious hint costs one pull.</summary>
    public void SignalAll()
    {
        ChangeSubscription[] targets;
        lock (_gate)
        {
            targets = [.. _byUser.Values.SelectMany(l => l)];
        }

        foreach (var subscription in targets)
        {
            subscription.Signal(accountDeleted: false);
        }
    }

    /// <summary>The instance is stopping: held pulls answer now and streams end, so clients move to another instance.</summary>
    public CancellationToken Stopping => lifetime.ApplicationStopping;

    /// <summary>Streams and held pulls open on this instance.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byUser.Values.Sum(l => l.Count);
            }
        }
    }

    /// <summary>Streams and held pulls of one user on this instance.</summary>
    public int CountOf(Guid userId)
    {
        lock (_gate)
        {
            return _byUser.TryGetValue(userId, out var list) ? list.Count : 0;
        }
    }

    internal void Remove(ChangeSubscription subscription)
    {
        lock (_gate)
        {
            if (_byUser.TryGetValue(subscription.UserId, out var list) && list.Remove(subscription) && list.Count == 0)
            {
                _byUser.Remove(subscription.UserId);
            }
        }
    }
}

/// <summary>
/// One waiter's view of its user's hints: a flag set by any number of hints and cleared by the
/// wait that sees it, so hints that arrive while the waiter is busy fold into one.
/// </summary>
internal sealed class ChangeSubscription(ChangeHintHub hub, Guid userId, bool IsStream) : IDisposable
{
    private readonly Lock _gate = new();
    private bool _pending;
    private TaskCompletionSource? _waiter;

    public Guid UserId { get; } = userId;

    public bool IsStream { get; } = IsStream;

    /// <summary>The account was deleted: the stream says so once more and ends.</summary>
    public bool AccountDeleted { get; private set; }

    internal void Signal(bool accountDeleted)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            AccountDeleted |= accountDeleted;
            waiter = _waiter;
            _waiter = null;
            _pending = waiter is null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>True when a hint came (before or during the wait); false after <paramref name="timeout"/>, when cancelled, or when the instance is stopping.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (_pending)
            {
                _pending = false;
                return true;
            }

            waiter = _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (timeout > TimeSpan.Zero && !ct.IsCancellationRequested && !hub.Stopping.IsCancellationRequested)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, hub.Stopping);
            var delay = Task.Delay(timeout, stop.Token);
            await Task.WhenAny(waiter.Task, delay);
            await stop.CancelAsync();
        }

        lock (_gate)
        {
            if (waiter.Task.IsCompleted)
            {
                return true;
            }

            // Timed out: the next wait creates its own waiter, and a hint in between sets the flag.
            _waiter = null;
            return false;
        }
    }

    public void Dispose() => hub.Remove(this);
}
