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

    public double Value { get; init; }

    public string? Notes { get; init; }

    public int Version { get; init; }

    public Instant CreatedAt { get; init; }

    public Instant UpdatedAt { get; init; }

    public Instant? DeletedAt { get; init; }

    /// <summary>The change number of the record's last write (the pull cursor's position); not on the wire.</summary>
    public long ChangeSeq { get; init; }

    public bool IsDeleted => DeletedAt is not null;

    /// <summary>Any write of an entry (create, update, delete) can change its habit's streaks.</summary>
    Guid? IStreakInput.StreakHabitId => HabitId;
}

/// <summary>An entry (a completion) on the wire: every contract field; a tombstone has <c>deleted_at</c> set.</summary>
internal sealed record EntryResponse(
    Guid Id,
    Guid HabitId,
    Instant CompletionDate,
    double Value,
    string? Notes,
    int Version,
    Instant CreatedAt,
    Instant UpdatedAt,
    Instant? DeletedAt)
{
    public static EntryResponse From(EntryRecord r) =>
        new(r.Id, r.HabitId, r.CompletionDate, r.Value, r.Notes, r.Version, r.CreatedAt, r.UpdatedAt, r.DeletedAt);
}

/// <summary>
/// The client-editable fields of an entry as a body gives them (absent, null or a value): bodies of
/// POST /entries, PUT /entries/{id} and a push's <c>upsert_entry</c> data. None of them may be null.
/// </summary>
internal record EntryFields
{
    public Optional<Instant> CompletionDate { get; init; }

    public Optional<double> Value { get; init; }

    public Optional<string> Notes { get; init; }
}

internal static class EntryRules
{
    public const double MaxValue = 1_000_000;

    public const double DefaultValue = 1;

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
        RuleFor(x => x.Notes).NotSentAsNull()
            .WhenSent(v => StringRules.CodePoints(v) <= 1000).WithMessage("'{PropertyName}' must be at most 1000 characters.");
    }
}
