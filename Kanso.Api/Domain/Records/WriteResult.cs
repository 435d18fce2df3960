namespace Kanso.Api.Domain.Records;

/// <summary>A record whose writes can change a habit's streaks.</summary>
internal interface IStreakInput
{
    /// <summary>The habit whose streaks this stored state may have changed, if any.</summary>
    Guid? StreakHabitId { get; }
}

/// <summary>
/// What a write to a habit or an entry did. Shared by the REST slices and the sync push, which map
/// it to status codes and to push statuses respectively.
/// </summary>
internal abstract record WriteResult<T>
    where T : class, IStreakInput
{
    private WriteResult()
    {
    }

    /// <summary>True when the write changed rows, so its transaction has something to commit.</summary>
    public bool Changed => this is Created or Applied;

    /// <summary>
    /// The habit whose streaks this write may have changed: the one place that decides it, so every
    /// writer queues the same recomputes (after its commit, through the streak queue).
    /// </summary>
    public Guid? StreakHabitId => this switch
    {
        Created { Record: var r } => r.StreakHabitId,
        Applied { Record: var r } => r.StreakHabitId,
        _ => null,
    };

    /// <summary>A new record was inserted.</summary>
    public sealed record Created(T Record) : WriteResult<T>;

    /// <summary>A create for an id this user already has (live or deleted): the stored copy, nothing changed.</summary>
    public sealed record Existing(T Record) : WriteResult<T>;

    /// <summary>An update or a delete changed the record; for a delete, <paramref name="Record"/> is the tombstone.</summary>
    public sealed record Applied(T Record) : WriteResult<T>;

    /// <summary>A delete of a record that was already deleted: the tombstone, nothing changed.</summary>
    public sealed record AlreadyDeleted(T Record) : WriteResult<T>;

    /// <summary>The version given is not the stored one, or the record is deleted: <paramref name="Current"/> is the server's copy.</summary>
    public sealed record Conflict(T Current) : WriteResult<T>;

    /// <summary>The record (or, for an entry create, its habit) does not exist for this user.</summary>
    public sealed record NotFound : WriteResult<T>
    {
        public static readonly NotFound Instance = new();
    }

    /// <summary>The merged record breaks a rule; field-level messages keyed by wire (snake_case) name.</summary>
    public sealed record Invalid(IDictionary<string, string[]> Errors) : WriteResult<T>;
}
