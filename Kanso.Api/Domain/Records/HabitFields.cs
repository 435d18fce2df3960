using System.Text.RegularExpressions;
using FluentValidation;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Validation;
using NodaTime;

namespace Kanso.Api.Domain.Records;

/// <summary>
/// The client-editable fields of a habit as a body gives them: each one absent, null or a value.
/// Bodies of POST /habits, PUT /habits/{id} and a push's <c>upsert_habit</c> data all carry these.
/// Server-owned fields (user_id, version on create, streaks, timestamps) are simply not here.
/// </summary>
internal record HabitFields
{
    public Optional<string> Title { get; init; }

    [Clearable]
    public Optional<string> Description { get; init; }

    [Clearable]
    public Optional<string> Color { get; init; }

    [Clearable]
    public Optional<string> Icon { get; init; }

    public Optional<int> SortOrder { get; init; }

    public Optional<string> Type { get; init; }

    public Optional<double> TargetValue { get; init; }

    [Clearable]
    public Optional<string> Unit { get; init; }

    public Optional<string> Goal { get; init; }

    public Optional<string> FrequencyType { get; init; }

    /// <summary>Null is accepted (it is how the server returns the parameter of another frequency); the merged record decides.</summary>
    [Clearable]
    public Optional<int[]> Weekdays { get; init; }

    /// <summary>Null is accepted (it is how the server returns the parameter of another frequency); the merged record decides.</summary>
    [Clearable]
    public Optional<int> Interval { get; init; }

    /// <summary>Null is accepted (it is how the server returns the parameter of another frequency); the merged record decides.</summary>
    [Clearable]
    public Optional<int> TimesPerWeek { get; init; }

    [Clearable]
    public Optional<string> ReminderTime { get; init; }

    public Optional<Instant> StartDate { get; init; }

    [Clearable]
    public Optional<Instant> EndDate { get; init; }

    [Clearable]
    public Optional<Instant> ArchivedAt { get; init; }
}

internal static partial class HabitRules
{
    public const string Boolean = "boolean";
    public const string Numeric = "numeric";
    public const string Timer = "timer";
    public const string Daily = "daily";
    public const string SpecificDays = "specific_days";
    public const string EveryInterval = "interval";
    public const string Weekly = "weekly";
    public const string AtLeast = "at_least";
    public const string AtMost = "at_most";

    public static readonly string[] Goals = [AtLeast, AtMost];

    public static readonly string[] Types = [Boolean, Numeric, Timer];

    public static readonly string[] Frequencies = [Daily, SpecificDays, EveryInterval, Weekly];

    public static bool IsColor(string value) => ColorPattern().IsMatch(value);

    public static bool IsReminderTime(string value) => ReminderTimePattern().IsMatch(value);

    [GeneratedRegex(@"\A#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})\z", RegexOptions.CultureInvariant)]
    private static partial Regex ColorPattern();

    [GeneratedRegex(@"\A(?:[01][0-9]|2[0-3]):[0-5][0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex ReminderTimePattern();
}

/// <summary>
/// The rules each sent field must meet on its own. Only description, color, icon, unit, reminder_time,
/// end_date and archived_at may be sent as <c>null</c> (to clear them), and weekdays, interval and
/// times_per_week (null where the frequency does not use them, as the server returns them: the merged
/// record's rules refuse a null the frequency needs); a null anywhere else is a 400.
/// Rules that join fields (frequency parameters, end after start) run on the merged record: see
/// <see cref="HabitValuesValidator"/>.
/// </summary>
internal sealed class HabitFieldsValidator : AbstractValidator<HabitFields>
{
    public HabitFieldsValidator()
    {
        RuleFor(x => x.Title).NotSentAsNull()
            .WhenSent(v => StringRules.CodePoints(v.Trim()) is >= 1 and <= 100).WithMessage("'{PropertyName}' must be 1 to 100 characters after trimming.");
        RuleFor(x => x.Description).WhenSent(v => StringRules.CodePoints(v) <= 500).WithMessage("'{PropertyName}' must be at most 500 characters.");
        RuleFor(x => x.Color).WhenSent(HabitRules.IsColor).WithMessage("'{PropertyName}' must be #RGB or #RRGGBB, e.g. #4A90E2.");
        RuleFor(x => x.Icon).WhenSent(v => StringRules.CodePoints(v) <= 50).WithMessage("'{PropertyName}' must be at most 50 characters.");
        RuleFor(x => x.SortOrder).NotSentAsNull();
        RuleFor(x => x.Type).NotSentAsNull()
            .WhenSent(v => HabitRules.Types.Contains(v, StringComparer.Ordinal)).WithMessage("'{PropertyName}' must be boolean, numeric or timer.");
        // Its minimum depends on the type (a boolean habit's target is forced to 1): see HabitValuesValidator.
        RuleFor(x => x.TargetValue).NotSentAsNull();
        RuleFor(x => x.Unit).WhenSent(v => StringRules.CodePoints(v) <= 20).WithMessage("'{PropertyName}' must be at most 20 characters.");
        RuleFor(x => x.Goal).NotSentAsNull()
            .WhenSent(v => HabitRules.Goals.Contains(v, StringComparer.Ordinal)).WithMessage("'{PropertyName}' must be at_least or at_most.");
        RuleFor(x => x.FrequencyType).NotSentAsNull()
            .WhenSent(v => HabitRules.Frequencies.Contains(v, StringComparer.Ordinal)).WithMessage("'{PropertyName}' must be daily, specific_days, interval or weekly.");
        RuleFor(x => x.Weekdays).WhenSent(v => v.All(d => d is >= 0 and <= 6)).WithMessage("'{PropertyName}' must hold days 0 to 6 (0 = Sunday).")
            .WhenSent(v => v.Distinct().Count() == v.Length).WithMessage("'{PropertyName}' must not repeat a day.");
        RuleFor(x => x.Interval).WhenSent(v => v is >= 1 and <= 365).WithMessage("'{PropertyName}' must be 1 to 365 days.");
        RuleFor(x => x.TimesPerWeek).WhenSent(v => v is >= 1 and <= 7).WithMessage("'{PropertyName}' must be 1 to 7.");
        RuleFor(x => x.ReminderTime).WhenSent(HabitRules.IsReminderTime).WithMessage("'{PropertyName}' must be HH:MM (24 h), e.g. 07:30.");
        RuleFor(x => x.StartDate).NotSentAsNull();
    }
}

/// <summary>A habit's editable fields, complete: the stored copy (or the defaults) with a body applied.</summary>
internal sealed record HabitValues(
    string Title,
    string? Description,
    string? Color,
    string? Icon,
    int SortOrder,
    string Type,
    double TargetValue,
    string? Unit,
    string FrequencyType,
    short[]? Weekdays,
    int? Interval,
    int? TimesPerWeek,
    string? ReminderTime,
    Instant StartDate,
    Instant? EndDate,
    Instant? ArchivedAt,
    string Goal = HabitRules.AtLeast)
{
    private static readonly HabitValuesValidator Validator = new();

    /// <summary>A new habit before its body is applied: boolean, daily, starting now. Its title is still missing.</summary>
    public static HabitValues Defaults(Instant now) => new(
        Title: "", Description: null, Color: null, Icon: null, SortOrder: 0, Type: HabitRules.Boolean, TargetValue: 1, Unit: null,
        FrequencyType: HabitRules.Daily, Weekdays: null, Interval: null, TimesPerWeek: null, ReminderTime: null,
        StartDate: WireFormat.TruncateToMicroseconds(now), EndDate: null, ArchivedAt: null, Goal: HabitRules.AtLeast);

    public static HabitValues From(HabitRecord r) => new(
        r.Title, r.Description, r.Color, r.Icon, r.SortOrder, r.Type, r.TargetValue, r.Unit, r.FrequencyType,
        r.Weekdays, r.Interval, r.TimesPerWeek, r.ReminderTime, r.StartDate, r.EndDate, r.ArchivedAt, r.Goal);

    /// <summary>The body applied: absent = unchanged, null = cleared. The fields must have passed <see cref="HabitFieldsValidator"/>.</summary>
    public HabitValues Apply(HabitFields f) => new(
        Title: f.Title.HasValue ? f.Title.Value.Trim() : Title,
        Description: f.Description.Patch(Description),
        Color: f.Color.Patch(Color),
        Icon: f.Icon.Patch(Icon),
        SortOrder: f.SortOrder.PatchRequired(SortOrder),
        Type: f.Type.PatchRequired(Type),
        TargetValue: f.TargetValue.PatchRequired(TargetValue),
        Unit: f.Unit.Patch(Unit),
        FrequencyType: f.FrequencyType.PatchRequired(FrequencyType),
        Weekdays: f.Weekdays.HasValue ? f.Weekdays.Value.Select(d => (short)d).ToArray() : f.Weekdays.IsNull ? null : Weekdays,
        Interval: f.Interval.PatchValue(Interval),
        TimesPerWeek: f.TimesPerWeek.PatchValue(TimesPerWeek),
        ReminderTime: f.ReminderTime.Patch(ReminderTime),
        StartDate: f.StartDate.PatchRequired(StartDate),
        EndDate: f.EndDate.PatchValue(EndDate),
        ArchivedAt: f.ArchivedAt.PatchValue(ArchivedAt),
        Goal: f.Goal.PatchRequired(Goal));

    /// <summary>
    /// The stored form: a boolean habit's target is 1, weekdays are distinct and sorted, and only the
    /// parameter of the habit's own frequency is kept (the others are null).
    /// </summary>
    public HabitValues Normalize() => this with
    {
        TargetValue = Type == HabitRules.Boolean ? (Goal == HabitRules.AtMost ? 0 : 1) : TargetValue,
        Weekdays = FrequencyType == HabitRules.SpecificDays ? Weekdays?.Distinct().Order().ToArray() : null,
        Interval = FrequencyType == HabitRules.EveryInterval ? Interval : null,
        TimesPerWeek = FrequencyType == HabitRules.Weekly ? TimesPerWeek : null,
    };

    /// <summary>Rules across fields, on the merged record; null when it is valid.</summary>
    public IDictionary<string, string[]>? Errors()
    {
        var result = Validator.Validate(this);
        return result.IsValid ? null : result.ToDictionary();
    }
}

/// <summary>Rules on a merged habit that no single field can check.</summary>
internal sealed class HabitValuesValidator : AbstractValidator<HabitValues>
{
    public HabitValuesValidator()
    {
        RuleFor(x => x.Title).NotEmpty().WithMessage("'{PropertyName}' is required.");
        RuleFor(x => x.TargetValue).Must(v => v >= 1 && double.IsFinite(v)).When(x => x.Type != HabitRules.Boolean && x.Goal != HabitRules.AtMost)
            .WithMessage("'{PropertyName}' must be at least 1 for a numeric or timer habit.");
        RuleFor(x => x.TargetValue).Must(v => v >= 0 && double.IsFinite(v)).When(x => x.Type != HabitRules.Boolean && x.Goal == HabitRules.AtMost)
            .WithMessage("'{PropertyName}' must be at least 0 for an at_most habit.");
        RuleFor(x => x.Weekdays).Must(w => w is { Length: > 0 }).When(x => x.FrequencyType == HabitRules.SpecificDays)
            .WithMessage("'{PropertyName}' needs at least one day when 'frequency_type' is specific_days.");
        RuleFor(x => x.Interval).NotNull().When(x => x.FrequencyType == HabitRules.EveryInterval)
            .WithMessage("'{PropertyName}' is required when 'frequency_type' is interval.");
        RuleFor(x => x.TimesPerWeek).NotNull().When(x => x.FrequencyType == HabitRules.Weekly)
            .WithMessage("'{PropertyName}' is required when 'frequency_type' is weekly.");
        RuleFor(x => x.EndDate).Must((x, end) => end is null || end.Value >= x.StartDate)
            .WithMessage("'{PropertyName}' must not be before 'start_date'.");
    }
}
