using NodaTime;

namespace Kanso.Api.Domain.Records;

/// <summary>A row of <c>habits</c> as read by <see cref="HabitSql.Columns"/> (the caller's rows only, so no user_id).</summary>
internal sealed record HabitRecord : IStreakInput
{
    public Guid Id { get; init; }

    public string Title { get; init; } = "";

    public string? Description { get; init; }

    public string? Color { get; init; }

    public string? Icon { get; init; }

    public int SortOrder { get; init; }

    public string Type { get; init; } = HabitRules.Boolean;

    public double TargetValue { get; init; }

    public string? Unit { get; init; }

    public string Goal { get; init; } = HabitRules.AtLeast;

    public string FrequencyType { get; init; } = HabitRules.Daily;

    public short[]? Weekdays { get; init; }

    public int? Interval { get; init; }

    public int? TimesPerWeek { get; init; }

    public string? ReminderTime { get; init; }

    public Instant StartDate { get; init; }

    public Instant? EndDate { get; init; }

    public Instant? ArchivedAt { get; init; }

    public int CurrentStreak { get; init; }

    public int LongestStreak { get; init; }

    public int Version { get; init; }

    public Instant CreatedAt { get; init; }

    public Instant UpdatedAt { get; init; }

    public Instant? DeletedAt { get; init; }

    /// <summary>The change number of the record's last write (the pull cursor's position); not on the wire.</summary>
    public long ChangeSeq { get; init; }

    /// <summary>Whether the streaks wait for a recompute (returned by updates only); not on the wire.</summary>
    public bool StreakDirty { get; init; }

    public bool IsDeleted => DeletedAt is not null;

    /// <summary>
    /// Only an update that changed the schedule or the target (the update statement marks it dirty)
    /// changes what counts. A new habit has no entries yet, and a tombstone keeps its last streaks.
    /// </summary>
    Guid? IStreakInput.StreakHabitId => StreakDirty && !IsDeleted ? Id : null;
}

/// <summary>A habit on the wire: every contract field, in contract order; a tombstone has <c>deleted_at</c> set.</summary>
internal sealed record HabitResponse(
    Guid Id,
    string Title,
    string? Description,
    string? Color,
    string? Icon,
    int SortOrder,
    string Type,
    double TargetValue,
    string? Unit,
    string Goal,
    string FrequencyType,
    int[]? Weekdays,
    int? Interval,
    int? TimesPerWeek,
    string? ReminderTime,
    Instant StartDate,
    Instant? EndDate,
    Instant? ArchivedAt,
    int CurrentStreak,
    int LongestStreak,
    int Version,
    Instant CreatedAt,
    Instant UpdatedAt,
    Instant? DeletedAt)
{
    public static HabitResponse From(HabitRecord r) => new(
        r.Id, r.Title, r.Description, r.Color, r.Icon, r.SortOrder, r.Type, r.TargetValue, r.Unit, r.Goal, r.FrequencyType,
        r.Weekdays?.Select(d => (int)d).ToArray(), r.Interval, r.TimesPerWeek, r.ReminderTime, r.StartDate, r.EndDate, r.ArchivedAt,
        r.CurrentStreak, r.LongestStreak, r.Version, r.CreatedAt, r.UpdatedAt, r.DeletedAt);
}
