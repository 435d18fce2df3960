using FluentValidation;
using Kanso.Api.Domain.Records;
using Kanso.Api.Infrastructure.Json;
using NodaTime;

namespace Kanso.Api.Features.ImportData;

/// <summary>The limits of one import (docs/API.md): body size, and records per import.</summary>
internal static class ImportLimits
{
    public const long MaxBodyBytes = 64L * 1024 * 1024;

    public const int MaxHabits = 2_000;

    public const int MaxEntries = 500_000;

    public const int MaxTimeOff = 10_000;

    /// <summary>Conflicting ids named in the answer; the counts cover them all.</summary>
    public const int MaxConflictIds = 100;

    /// <summary>Field errors named in a 400; the first ones tell the client what is wrong.</summary>
    public const int MaxErrors = 100;

    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
}

/// <summary>A document of GET /export as POST /import reads it; <c>user</c> and server-computed fields are ignored.</summary>
internal sealed record ImportDocument(
    int? FormatVersion, ImportSettings? Settings, List<ImportHabit?>? Habits, List<ImportEntry?>? Entries, List<ImportTimeOff?>? TimeOff);

/// <summary>The document's settings: <c>timezone</c> and <c>day_start</c> (its <c>version</c> is the source account's, ignored).</summary>
internal sealed record ImportSettings : SettingsFields;

/// <summary>Time off of the document: its id, version and created_at, and the editable fields.</summary>
internal sealed record ImportTimeOff : TimeOffFields
{
    public Guid? Id { get; init; }

    public int? Version { get; init; }

    public Instant? CreatedAt { get; init; }
}

/// <summary>A habit of the document: its id, version and created_at, and the editable fields.</summary>
internal sealed record ImportHabit : HabitFields
{
    public Guid? Id { get; init; }

    public int? Version { get; init; }

    public Instant? CreatedAt { get; init; }

    /// <summary>
    /// In a document, a null means "no value": the export writes nulls for unset colors and for the
    /// frequency parameters a habit does not use, which a write body may not send as null.
    /// </summary>
    public ImportHabit WithoutNulls() => this with
    {
        Color = Color.IsNull ? default : Color,
        Weekdays = Weekdays.IsNull ? default : Weekdays,
        Interval = Interval.IsNull ? default : Interval,
        TimesPerWeek = TimesPerWeek.IsNull ? default : TimesPerWeek,
    };
}

/// <summary>An entry of the document: its id, habit, version and created_at, and the editable fields.</summary>
internal sealed record ImportEntry : EntryFields
{
    public Guid? Id { get; init; }

    public Guid? HabitId { get; init; }

    public int? Version { get; init; }

    public Instant? CreatedAt { get; init; }

    public ImportEntry WithoutNulls() => this with { Notes = Notes.IsNull ? default : Notes };
}

internal sealed class ImportHabitValidator : AbstractValidator<ImportHabit>
{
    public ImportHabitValidator()
    {
        Include(new HabitFieldsValidator());
        RuleFor(x => x.Id).Must(id => id is not null && id != Guid.Empty).WithMessage("'id' is required and must not be the nil UUID.");
        RuleFor(x => x.Title).Must(t => t.IsSent).WithMessage("'title' is required.");
        RuleFor(x => x.Version).Must(v => v is null or >= 1).WithMessage("'version' must be at least 1.");
    }
}

internal sealed class ImportTimeOffValidator : AbstractValidator<ImportTimeOff>
{
    public ImportTimeOffValidator()
    {
        Include(new TimeOffFieldsValidator());
        RuleFor(x => x.Id).Must(id => id is not null && id != Guid.Empty).WithMessage("'id' is required and must not be the nil UUID.");
        RuleFor(x => x.Version).Must(v => v is null or >= 1).WithMessage("'version' must be at least 1.");
    }
}

internal sealed class ImportEntryValidator : AbstractValidator<ImportEntry>
{
    public ImportEntryValidator()
    {
        Include(new EntryFieldsValidator());
        RuleFor(x => x.Id).Must(id => id is not null && id != Guid.Empty).WithMessage("'id' is required and must not be the nil UUID.");
        RuleFor(x => x.HabitId).NotNull().WithMessage("'habit_id' is required.");
        RuleFor(x => x.CompletionDate).Must(c => c.HasValue).WithMessage("'completion_date' is required.");
        RuleFor(x => x.Version).Must(v => v is null or >= 1).WithMessage("'version' must be at least 1.");
    }
}

/// <summary>What an import did, per record type.</summary>
internal sealed record ImportCounts(int Created, int Unchanged, int Conflicts);

/// <summary>What an import did with the document's settings (docs/API.md).</summary>
internal static class ImportSettingsOutcome
{
    /// <summary>The document has no settings (a format 1 document, or a Loop export).</summary>
    public const string Absent = "absent";

    /// <summary>The account's settings were never set: they are now the document's.</summary>
    public const string Applied = "applied";

    /// <summary>The account already has the document's settings.</summary>
    public const string Unchanged = "unchanged";

    /// <summary>The account has settings of its own, set earlier: they are kept.</summary>
    public const string Conflict = "conflict";
}

internal sealed record ImportDataResponse(
    string Format, ImportCounts Habits, ImportCounts Entries, ImportCounts TimeOff, string Settings, Guid[] ConflictIds);
