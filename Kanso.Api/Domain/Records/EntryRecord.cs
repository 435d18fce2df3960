using FluentValidation;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Validation;
using NodaTime;

namespace Kanso.Api.Domain.Records;

/// <summary>A row of <c>habit_entries</c> as read by <see cref="EntrySql.Columns"/> (the caller's rows only).</summary>
internal sealed record EntryRecord : IStreakInput
{
    public Guid Id { get; init; }

    public Guid HabitId { get; init; }

    public Instant CompletionDate { get; init; }

    /// <summary>The day the entry belongs to, fixed when it is written.</summary>
    public LocalDate LocalDate { get; init; }

    /// <summary><c>done</c> or <c>skip</c>.</summary>
    public string Kind { get; init; } = EntryRules.Done;

    public double Value { get; init; }

    public string? Notes { get; init; }

    public int Version { get; init; }

    public Instant CreatedAt { get; init; }

    public Instant UpdatedAt { get; init; }

    public Instant? DeletedAt { get; init; }

    /// <summary>The change number of the record's last write (the pull cursor's position); not on the wire.</summary>
    public long ChangeSeq { get; init; }

    public bool IsDeleted => DeletedAt is not null;

    public bool IsSkip => Kind == EntryRules.Skip;

    /// <summary>Any write of an entry (create, update, delete) can change its habit's streaks.</summary>
    Guid? IStreakInput.StreakHabitId => HabitId;
}

/// <summary>An entry (a completion) on the wire: every contract field; a tombstone has <c>deleted_at</c> set.</summary>
internal sealed record EntryResponse(
    Guid Id,
    Guid HabitId,
    Instant CompletionDate,
    LocalDate LocalDate,
    string Kind,
    double Value,
    string? Notes,
    int Version,
    Instant CreatedAt,
    Instant UpdatedAt,
    Instant? DeletedAt)
{
    public static EntryResponse From(EntryRecord r) =>
        new(r.Id, r.HabitId, r.CompletionDate, r.LocalDate, r.Kind, r.Value, r.Notes, r.Version, r.CreatedAt, r.UpdatedAt, r.DeletedAt);

    /// <summary>
    /// The entry as a client of <paramref name="protocol"/> sees it: before protocol 2 a skip is a
    /// tombstone (deleted at its last update), so such a client never counts it as a completion.
    /// </summary>
    public static EntryResponse From(EntryRecord r, int protocol) =>
        protocol < 2 && r.IsSkip && r.DeletedAt is null ? From(r) with { DeletedAt = r.UpdatedAt } : From(r);
}

/// <summary>
/// The client-editable fields of an entry as a body gives them (absent, null or a value): bodies of
/// POST /entries, PUT /entries/{id} and a push's <c>upsert_entry</c> data. Only <c>notes</c> may be
/// null (it clears them).
/// </summary>
internal record EntryFields
{
    public Optional<Instant> CompletionDate { get; init; }

    public Optional<double> Value { get; init; }

    [Clearable]
    public Optional<string> Notes { get; init; }

    /// <summary>Absent: computed from completion_date (on create, or when an update sends completion_date).</summary>
    public Optional<LocalDate> LocalDate { get; init; }

    public Optional<string> Kind { get; init; }
}

internal static class EntryRules
{
    public const double MaxValue = 1_000_000;

    public const double DefaultValue = 1;

    public const string Done = "done";

    public const string Skip = "skip";

    /// <summary>The value as stored: -0 (valid JSON, and within the range) becomes 0, so no app shows "-0".</summary>
    public static double Stored(double value) => value == 0 ? 0 : value;
}

/// <summary>The rules each sent entry field must meet; whether <c>completion_date</c> must be sent is the create's rule.</summary>
internal sealed class EntryFieldsValidator : AbstractValidator<EntryFields>
{
    public EntryFieldsValidator()
    {
        RuleFor(x => x.CompletionDate).NotSentAsNull();
        RuleFor(x => x.Value).NotSentAsNull()
            .WhenSent(v => v is >= 0 and <= EntryRules.MaxValue).WithMessage("'{PropertyName}' must be 0 to 1000000.");
        RuleFor(x => x.Notes).WhenSent(v => StringRules.CodePoints(v) <= 1000).WithMessage("'{PropertyName}' must be at most 1000 characters.");
        RuleFor(x => x.LocalDate).NotSentAsNull()
            .WhenSent(v => v.Year is >= 1 and <= 9999).WithMessage("'{PropertyName}' must be a date, YYYY-MM-DD.");
        RuleFor(x => x.Kind).NotSentAsNull()
            .WhenSent(v => v is EntryRules.Done or EntryRules.Skip).WithMessage("'{PropertyName}' must be done or skip.");
    }
}
