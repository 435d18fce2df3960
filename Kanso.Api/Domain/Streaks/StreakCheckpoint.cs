using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;
using NodaTime.Text;

namespace Kanso.Api.Domain.Streaks;

/// <summary>
/// Where the streak walk of one habit stood at a Monday (<see cref="Date"/>), stored on the habit
/// (<c>habits.streak_checkpoint</c>) so the next recompute reads only the entries from that Monday on
/// and walks on from <see cref="State"/> instead of the whole history.
/// <para>
/// The state at <see cref="Date"/> depends on the habit's schedule, the days off before it and the
/// entries before it. The first two are summed up in <see cref="Fingerprint"/>, checked against the
/// habit as it is now (a schedule, goal, target, zone, day start or time-off change that reaches
/// before the checkpoint makes it stale, whoever wrote it); the entries are the writers' part:
/// every entry write records the earliest local date it touches in <c>habits.streak_dirty_from</c>,
/// and one before the checkpoint makes it stale. A stale, unknown or missing checkpoint means a
/// walk of the whole history.
/// </para>
/// </summary>
internal sealed partial record StreakCheckpoint(LocalDate Date, RunState State, string Fingerprint)
{
    /// <summary>The stored form's version; a checkpoint of any other version is ignored (a full recompute).</summary>
    public const int CurrentVersion = 1;

    /// <summary>How far before today a new checkpoint is set: entry writes on the last two weeks do not invalidate it.</summary>
    public const int DaysBehindToday = 14;

    private static readonly LocalDatePattern DatePattern = LocalDatePattern.Iso;

    /// <summary>The stored JSON (<c>{"v":1,"date":"2026-03-02","run":3,"longest":9,"fp":"..."}</c>).</summary>
    public string ToJson() => JsonSerializer.Serialize(new Stored(CurrentVersion, DatePattern.Format(Date), State.Run, State.Longest, Fingerprint), StoredContext.Default.Stored);

    /// <returns>The checkpoint, or null when there is none, it is of another version, or it does not parse.</returns>
    public static StreakCheckpoint? FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            var stored = JsonSerializer.Deserialize(json, StoredContext.Default.Stored);
            return stored is { V: CurrentVersion, Date: { } date, Fp: { } fp } && DatePattern.Parse(date) is { Success: true } parsed
                && stored.Run >= 0 && stored.Longest >= stored.Run
                ? new StreakCheckpoint(parsed.Value, new RunState(stored.Run, stored.Longest), fp)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// A digest of what the walk up to <paramref name="date"/> depends on besides the entries: the
    /// schedule (with its first and last day as resolved in the user's zone and day start) and the
    /// time-off days before <paramref name="date"/> that cover the habit.
    /// </summary>
    /// <param name="schedule">The habit's schedule without days off (those are <paramref name="timeOff"/> and the skip entries).</param>
    public static string FingerprintOf(HabitSchedule schedule, IEnumerable<(LocalDate Start, LocalDate End)> timeOff, LocalDate date)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"{schedule.Frequency}|{schedule.WeekdayMask}|{schedule.Interval}|{schedule.TimesPerWeek}|");
        text.Append(schedule.TargetValue.ToString("R", inv)).Append('|').Append(schedule.Goal).Append('|');
        text.Append(DatePattern.Format(schedule.FirstDay)).Append('|').Append(schedule.LastDay is { } last ? DatePattern.Format(last) : "-");
        var before = date.PlusDays(-1);
        foreach (var (start, end) in timeOff
            .Where(r => r.Start <= before && r.End >= r.Start)
            .Select(r => (r.Start, End: r.End < before ? r.End : before))
            .Distinct()
            .OrderBy(r => r.Start).ThenBy(r => r.End))
        {
            text.Append('|').Append(DatePattern.Format(start)).Append('~').Append(DatePattern.Format(end));
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())), 0, 16);
    }

    internal sealed record Stored(
        [property: JsonPropertyName("v")] int V,
        [property: JsonPropertyName("date")] string? Date,
        [property: JsonPropertyName("run")] int Run,
        [property: JsonPropertyName("longest")] int Longest,
        [property: JsonPropertyName("fp")] string? Fp);

    [JsonSerializable(typeof(Stored))]
    internal sealed partial class StoredContext : JsonSerializerContext;
}

/// <summary>
/// The incremental recompute of one habit, pure: <see cref="Plan"/> decides from which local date
/// the entries must be read (or the whole history), <see cref="Run"/> computes the streaks from
/// those entries and the next checkpoint. The streak worker runs one, then the other, around its
/// read of the entries; the property tests run them against <see cref="StreakCalculator.Compute"/>.
/// </summary>
internal static class IncrementalStreak
{
    /// <summary>Whether the stored checkpoint still holds, and so from which date the entries are needed.</summary>
    /// <param name="schedule">The habit's schedule without days off.</param>
    /// <param name="timeOff">The live time off covering the habit.</param>
    /// <param name="dirty">The habit's <c>streak_dirty</c>.</param>
    /// <param name="dirtyFrom">The habit's <c>streak_dirty_from</c>: the earliest local date entry writes touched since the last recompute.</param>
    /// <returns>The checkpoint to resume from, or null: walk the whole history.</returns>
    public static StreakCheckpoint? Plan(
        HabitSchedule schedule, IReadOnlyCollection<(LocalDate Start, LocalDate End)> timeOff, StreakCheckpoint? stored, bool dirty, LocalDate? dirtyFrom, LocalDate today)
    {
        if (stored is null
            // Dirty without a date: a writer that does not say what it touched (a schedule or
            // settings change, an import): nothing stored can be trusted.
            || (dirty && dirtyFrom is null)
            || dirtyFrom < stored.Date
            || stored.Date.DayOfWeek != IsoDayOfWeek.Monday
            || StreakCalculator.LatestCheckpoint(schedule, today) is not { } latest
            || stored.Date > latest
            || stored.Date < StreakCalculator.Start(schedule)
            || stored.Fingerprint != StreakCheckpoint.FingerprintOf(schedule, timeOff, stored.Date))
        {
            return null;
        }

        return stored;
    }

    /// <summary>
    /// The streaks and the checkpoint to store next, from <paramref name="resume"/> (null: the whole
    /// history) and the entries from its date on.
    /// </summary>
    /// <param name="schedule">The habit's schedule without days off.</param>
    /// <param name="entries">The habit's live entries (at least those from the checkpoint's date on): local date, kind, value.</param>
    public static (StreakResult Result, StreakCheckpoint? Next) Run(
        HabitSchedule schedule, IReadOnlyCollection<(LocalDate Start, LocalDate End)> timeOff, StreakCheckpoint? resume,
        IEnumerable<(LocalDate Day, bool Skip, double Value)> entries, LocalDate today)
    {
        var from = resume?.Date ?? StreakCalculator.Start(schedule);
        var totals = new Dictionary<LocalDate, double>();
        var skipped = new List<LocalDate>();
        foreach (var (day, skip, value) in entries)
        {
            if (day < from)
            {
                continue;
            }

            if (skip)
            {
                skipped.Add(day);
            }
            else
            {
                totals[day] = totals.GetValueOrDefault(day) + value;
            }
        }

        var off = new DaysOff(skipped, timeOff);
        var withOff = off.IsEmpty ? schedule : schedule with { Off = off };
        var state = resume?.State ?? default;
        var result = StreakCalculator.Finish(withOff, totals, from, state, today);

        if (StreakCalculator.LatestCheckpoint(schedule, today) is not { } latest)
        {
            return (result, null);
        }

        var date = HabitSchedule.WeekOf(today.PlusDays(-StreakCheckpoint.DaysBehindToday));
        date = date > latest ? latest : date;
        if (date <= from)
        {
            return (result, resume ?? new StreakCheckpoint(from, default, StreakCheckpoint.FingerprintOf(schedule, timeOff, from)));
        }

        state = StreakCalculator.Advance(withOff, totals, state, from, date, today);
        return (result, new StreakCheckpoint(date, state, StreakCheckpoint.FingerprintOf(schedule, timeOff, date)));
    }
}
