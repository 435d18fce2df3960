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
internal sealed record HabitSchedule(
    Frequency Frequency,
    int WeekdayMask,
    int Interval,
    int TimesPerWeek,
    double TargetValue,
    LocalDate FirstDay,
    LocalDate? LastDay)
{
    // Summed decimal fractions fall a hair short in binary floating point (ten times 0.1 is
    // 0.9999999999999999), and a user who logged 0.1 ten times has reached a target of 1.
    private const double Tolerance = 1e-9;

    /// <summary>The schedule of a habits row, with its first and last day in <paramref name="zone"/>.</summary>
    public static HabitSchedule FromRow(
        string frequencyType, short[]? weekdays, int? interval, int? timesPerWeek, double targetValue,
        Instant startDate, Instant? endDate, DateTimeZone zone)
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
            LocalDays.DateOf(startDate, zone),
            endDate is { } end ? LocalDays.DateOf(end, zone) : null);
    }

    public bool IsCompleted(double total) => total >= TargetValue - Tolerance;

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
    /// are candidates, and min(times_per_week, candidates) of them are scheduled. A week is
    /// completed when that many of its candidate days are.
    /// </summary>
    public int WeeklyQuota(LocalDate monday, LocalDate from, LocalDate to)
    {
        var first = Max(Max(monday, from), FirstDay);
        var last = Min(Min(SundayOf(monday), to), LastDay ?? LocalDate.MaxIsoValue);
        var candidates = last < first ? 0 : Period.DaysBetween(first, last) + 1;
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
