using FluentValidation;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Validation;
using NodaTime;

namespace Kanso.Api.Domain.Records;

/// <summary>A row of <c>time_off</c> as read by <see cref="TimeOffSql.Columns"/> (the caller's rows only).</summary>
internal sealed record TimeOffRecord : IStreakInput
{
    public Guid Id { get; init; }

    public LocalDate StartDate { get; init; }

    public LocalDate EndDate { get; init; }

    public Guid[]? HabitIds { get; init; }

    public string? Note { get; init; }

    public int Version { get; init; }

    public Instant CreatedAt { get; init; }

    public Instant UpdatedAt { get; init; }

    public Instant? DeletedAt { get; init; }

    /// <summary>The change number of the record's last write; not on the wire.</summary>
    public long ChangeSeq { get; init; }

    /// <summary>The habits a write marked for a streak recompute (those covered before or after it); not on the wire.</summary>
    public Guid[] DirtyHabits { get; init; } = [];

    public bool IsDeleted => DeletedAt is not null;

    /// <summary>Time off covers many habits at once: see <see cref="DirtyHabits"/>.</summary>
    Guid? IStreakInput.StreakHabitId => null;
}

/// <summary>Time off on the wire; a tombstone has <c>deleted_at</c> set.</summary>
internal sealed record TimeOffResponse(
    Guid Id,
    LocalDate StartDate,
    LocalDate EndDate,
    Guid[]? HabitIds,
    string? Note,
    int Version,
    Instant CreatedAt,
    Instant UpdatedAt,
    Instant? DeletedAt)
{
    public static TimeOffResponse From(TimeOffRecord r) =>
        new(r.Id, r.StartDate, r.EndDate, r.HabitIds, r.Note, r.Version, r.CreatedAt, r.UpdatedAt, r.DeletedAt);
}

/// <summary>The client-editable fields of time off as a body gives them: POST/PUT /time-off and a push's <c>upsert_time_off</c>.</summary>
internal record TimeOffFields
{
    public Optional<LocalDate> StartDate { get; init; }

    public Optional<LocalDate> EndDate { get; init; }

    [Clearable]
    public Optional<Guid[]> HabitIds { get; init; }

    [Clearable]
    public Optional<string> Note { get; init; }
}

internal static class TimeOffRules
{
    public const int MaxDays = 366;

    public const int MaxHabits = 100;
}

/// <summary>Each sent field on its own; the range is checked on the merged record (<see cref="TimeOffValues"/>).</summary>
internal sealed class TimeOffFieldsValidator : AbstractValidator<TimeOffFields>
{
    public TimeOffFieldsValidator()
    {
        RuleFor(x => x.StartDate).NotSentAsNull()
            .WhenSent(v => v.Year is >= 1 and <= 9999).WithMessage("'{PropertyName}' must be a date, YYYY-MM-DD.");
        RuleFor(x => x.EndDate).NotSentAsNull()
            .WhenSent(v => v.Year is >= 1 and <= 9999).WithMessage("'{PropertyName}' must be a date, YYYY-MM-DD.");
        RuleFor(x => x.HabitIds)
            .WhenSent(v => v.Length is >= 1 and <= TimeOffRules.MaxHabits).WithMessage("'{PropertyName}' must be null (all habits) or 1 to 100 habit ids.")
            .WhenSent(v => v.Distinct().Count() == v.Length && !v.Contains(Guid.Empty)).WithMessage("'{PropertyName}' must not repeat an id or hold the nil UUID.");
        RuleFor(x => x.Note).WhenSent(v => StringRules.CodePoints(v) <= 500).WithMessage("'{PropertyName}' must be at most 500 characters.");
    }
}

/// <summary>Time off's editable fields, complete: the stored copy with a body applied.</summary>
internal sealed record TimeOffValues(LocalDate? StartDate, LocalDate? EndDate, Guid[]? HabitIds, string? Note)
{
    public static TimeOffValues From(TimeOffRecord r) => new(r.StartDate, r.EndDate, r.HabitIds, r.Note);

    public TimeOffValues Apply(TimeOffFields f) => new(
        f.StartDate.HasValue ? f.StartDate.Value : StartDate,
        f.EndDate.HasValue ? f.EndDate.Value : EndDate,
        f.HabitIds.Patch(HabitIds),
        f.Note.Patch(Note));

    public IDictionary<string, string[]>? Errors()
    {
        var errors = new Dictionary<string, string[]>();
        if (StartDate is null)
        {
            errors["start_date"] = ["'start_date' is required."];
        }

        if (EndDate is null)
        {
            errors["end_date"] = ["'end_date' is required."];
        }

        if (StartDate is { } start && EndDate is { } end)
        {
            if (end < start)
            {
                errors["end_date"] = ["'end_date' must not be before 'start_date'."];
            }
            else if (Period.DaysBetween(start, end) >= TimeOffRules.MaxDays)
            {
                errors["end_date"] = [$"Time off may span at most {TimeOffRules.MaxDays} days, both ends included."];
            }
        }

        return errors.Count == 0 ? null : errors;
    }
}
