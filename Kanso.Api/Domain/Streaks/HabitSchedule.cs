using Kanso.Api.Infrastructure.Time;
using NodaTime;

namespace Kanso.Api.Domain.Streaks;

internal enum Frequency
{
    Daily,
    SpecificDays,
    Interval,
    Weekly,
}

/// <summary>
/// When a habit is due, in local days: the schedule fields of the habits row with its first and last
/// day already resolved in a zone. Shared by the streak worker and the stats, so both agree on which
/// days are scheduled and which are completed.
/// </summary>
/// <param name="WeekdayMask">Bit n set = weekday n is scheduled (0 = Sunday), for <see cref="Frequency.SpecificDays"/>.</param>
/// <param name="FirstDay">The local date of <c>start_date</c>; no day before it is scheduled.</param>
/// <param name="LastDay">The local date of <c>end_date</c>, inclusive; none when the habit has no end.</param>
/// <param name="Goal">At least <see cref="TargetValue"/> a day (default), or at most.</param>
/// <param name="Off">Days that are not scheduled although the frequency falls on them (skips, time off).</param>
internal sealed record HabitSchedule(
    Frequency Frequency,
    int WeekdayMask,
    int Interval,
    int TimesPerWeek,
    double TargetValue,
    LocalDate FirstDay,
    LocalDate? LastDay,
    HabitGoal Goal = HabitGoal.AtLeast,
    DaysOff? Off = null)
{
    // Summed decimal fractions fall a hair short in binary floating point (ten times 0.1 is
    // 0.9999999999999999), and a user who logged 0.1 ten times has reached a target of 1.
    private const double Tolerance = 1e-9;

    /// <summary>The schedule of a habits row, with its first and last day in <paramref name="zone"/>.</summary>
    /// <param name="goal">The habits row's <c>goal</c>.</param>
    /// <param name="dayStartMinutes">The user's day start: the first and last day are the local dates of the instants minus it.</param>
    /// <param name="off">The habit's skipped and time-off days.</param>
    public static HabitSchedule FromRow(
        string frequencyType, short[]? weekdays, int? interval, int? timesPerWeek, double targetValue,
        Instant startDate, Instant? endDate, DateTimeZone zone, string? goal = null, int dayStartMinutes = 0, DaysOff? off = null)
    {
        var frequency = frequencyType switch
        {
            "specific_days" => Frequency.SpecificDays,
            "interval" => Frequency.Interval,
            "weekly" => Frequency.Weekly,
            _ => Frequency.Daily,
        };
        var mask = 0;
        foreach (var day in weekdays ?? [])
        {
            if (day is >= 0 and <= 6)
            {
                mask |= 1 << day;
            }
        }

        return new HabitSchedule(
            frequency,
            mask,
            Math.Max(1, interval ?? 1),
            Math.Clamp(timesPerWeek ?? 1, 1, 7),
            targetValue,
            LocalDays.DateOf(startDate, zone, dayStartMinutes),
            endDate is { } end ? LocalDays.DateOf(end, zone, dayStartMinutes) : null,
            goal == "at_most" ? HabitGoal.AtMost : HabitGoal.AtLeast,
            off is { IsEmpty: false } ? off : null);
    }

    public bool IsAtMost => Goal == HabitGoal.AtMost;

    /// <summary>An <see cref="HabitGoal.AtLeast"/> day's total reaches the target.</summary>
    public bool IsCompleted(double total) => total >= TargetValue - Tolerance;

    /// <summary>
    /// Whether <paramref name="day"/> with this summed value is completed: it reaches the target, or
    /// for <see cref="HabitGoal.AtMost"/>, the day is over (before <paramref name="today"/>) and stayed
    /// within the limit (a day with nothing logged included).
    /// </summary>
    public bool IsCompletedOn(LocalDate day, double total, LocalDate today) =>
        IsAtMost ? day < today && total <= TargetValue + Tolerance : IsCompleted(total);

    /// <summary>A skipped day or a day of time off covering the habit: not scheduled.</summary>
    public bool IsOff(LocalDate day) => Off is { } off && off.Contains(day);

    /// <summary>Between the first and the last day (no "today" bound: callers add that).</summary>
    public bool IsWithinHabit(LocalDate day) => day >= FirstDay && (LastDay is not { } last || day <= last);

    /// <summary>
    /// Whether the frequency falls on this day, for day-based frequencies; every day for
    /// <see cref="Frequency.Weekly"/>, whose any day may count towards the week.
    /// </summary>
    public bool FallsOn(LocalDate day) => Frequency switch
    {
        Frequency.SpecificDays => (WeekdayMask & (1 << WeekdayNumber(day))) != 0,
        Frequency.Interval => day >= FirstDay && Period.DaysBetween(FirstDay, day) % Interval == 0,
        _ => true,
    };

    /// <summary>0 = Sunday ... 6 = Saturday, as the contract numbers weekdays.</summary>
    public static int WeekdayNumber(LocalDate day) => (int)day.DayOfWeek % 7;

    /// <summary>
    /// The weekly quota of a <see cref="Frequency.Weekly"/> habit, the one rule the streaks and the
    /// stats share: of the Monday-to-Sunday week starting on <paramref name="monday"/>, the days that
    /// are the habit's (first to last day) and within [<paramref name="from"/>, <paramref name="to"/>]
    /// are candidates unless they are off (skipped or time off), and min(times_per_week, candidates)
    /// of them are scheduled (none: the week is not scheduled). A week is
    /// completed when that many of its candidate days are.
    /// </summary>
    public int WeeklyQuota(LocalDate monday, LocalDate from, LocalDate to)
    {
        var first = Max(Max(monday, from), FirstDay);
        var last = Min(Min(SundayOf(monday), to), LastDay ?? LocalDate.MaxIsoValue);
        var candidates = last < first ? 0 : Period.DaysBetween(first, last) + 1 - (Off?.CountIn(first, last) ?? 0);
        return Math.Min(TimesPerWeek, candidates);
    }

    /// <summary>The Sunday ending the week of <paramref name="monday"/>, or the last representable date in the calendar's last week.</summary>
    public static LocalDate SundayOf(LocalDate monday) =>
        monday <= LocalDate.MaxIsoValue.PlusDays(-6) ? monday.PlusDays(6) : LocalDate.MaxIsoValue;

    private static LocalDate Max(LocalDate a, LocalDate b) => a > b ? a : b;

    private static LocalDate Min(LocalDate a, LocalDate b) => a < b ? a : b;

    /// <summary>The Monday of the Monday-to-Sunday week holding <paramref name="day"/>.</summary>
    public static LocalDate WeekOf(LocalDate day) => day.PlusDays(1 - (int)day.DayOfWeek);
}
