using NodaTime;

namespace Kanso.Api.Domain.Streaks;

internal readonly record struct StreakResult(int Current, int Longest);

/// <summary>
/// Current and longest streak of one habit: a pure function of its schedule, its summed value per
/// local day and today's local date.
/// <list type="bullet">
/// <item>Scheduled days are the days the frequency falls on from the first day to the last day
/// and never after today. A run is a sequence of completed scheduled days with no missed scheduled
/// day between them; unscheduled days neither extend nor break it.</item>
/// <item><c>weekly</c> habits count in Monday-to-Sunday weeks: a week is completed when its
/// completed days reach <c>times_per_week</c>, or, in a week the habit only partly covers (its first
/// or last week), the number of its days the habit covers when that is fewer.</item>
/// <item>Current is the run that reaches the last scheduled day (week) up to today. Today (this
/// week) is still open: until it is completed it does not break the run, which then ends at the
/// scheduled day (week) before.</item>
/// </list>
/// It only visits the completed days, so a long history costs what its entries cost.
/// </summary>
internal static class StreakCalculator
{
    public static StreakResult Compute(HabitSchedule schedule, IReadOnlyDictionary<LocalDate, double> totals, LocalDate today)
    {
        var lastScheduled = schedule.LastDay is { } lastDay && lastDay < today ? lastDay : today;
        if (lastScheduled < schedule.FirstDay)
        {
            return default;
        }

        return schedule.Frequency == Frequency.Weekly
            ? ComputeWeekly(schedule, totals, today, lastScheduled)
            : ComputeDaily(schedule, totals, today, lastScheduled);
    }

    private static StreakResult ComputeDaily(HabitSchedule schedule, IReadOnlyDictionary<LocalDate, double> totals, LocalDate today, LocalDate lastScheduled)
    {
        var completed = new List<LocalDate>();
        foreach (var (day, total) in totals)
        {
            if (day >= schedule.FirstDay && day <= lastScheduled && schedule.FallsOn(day) && schedule.IsCompleted(total))
            {
                completed.Add(day);
            }
        }

        completed.Sort();
        var (longest, lastRun) = Runs(completed, day => NextScheduledDay(schedule, day));

        var anchor = PreviousOrSameScheduledDay(schedule, lastScheduled);
        var lastCompleted = completed.Count > 0 ? completed[^1] : (LocalDate?)null;
        if (anchor == today && lastCompleted != today)
        {
            anchor = PreviousOrSameScheduledDay(schedule, today.PlusDays(-1));
        }

        return new StreakResult(anchor is not null && lastCompleted == anchor ? lastRun : 0, longest);
    }

    private static StreakResult ComputeWeekly(HabitSchedule schedule, IReadOnlyDictionary<LocalDate, double> totals, LocalDate today, LocalDate lastScheduled)
    {
        var completedDays = new Dictionary<LocalDate, int>();
        foreach (var (day, total) in totals)
        {
            if (day >= schedule.FirstDay && day <= lastScheduled && schedule.IsCompleted(total))
            {
                var week = HabitSchedule.WeekOf(day);
                completedDays[week] = completedDays.GetValueOrDefault(week) + 1;
            }
        }

        var completedWeeks = completedDays.Where(w => w.Value >= schedule.WeeklyQuota(w.Key, LocalDate.MinIsoValue, LocalDate.MaxIsoValue)).Select(w => w.Key).ToList();
        completedWeeks.Sort();
        var (longest, lastRun) = Runs(completedWeeks, week => week.PlusDays(7));

        var anchor = HabitSchedule.WeekOf(lastScheduled);
        var lastCompleted = completedWeeks.Count > 0 ? completedWeeks[^1] : (LocalDate?)null;
        if (lastScheduled == today && lastCompleted != anchor)
        {
            anchor = anchor.PlusDays(-7);
        }

        return new StreakResult(lastCompleted == anchor ? lastRun : 0, longest);
    }

    /// <returns>The longest run and the length of the run that ends at the last item.</returns>
    private static (int Longest, int LastRun) Runs(List<LocalDate> sorted, Func<LocalDate, LocalDate> next)
    {
        int longest = 0, run = 0;
        LocalDate? previous = null;
        foreach (var item in sorted)
        {
            run = previous is { } p && next(p) == item ? run + 1 : 1;
            longest = Math.Max(longest, run);
            previous = item;
        }

        return (longest, run);
    }

    private static LocalDate NextScheduledDay(HabitSchedule schedule, LocalDate day)
    {
        switch (schedule.Frequency)
        {
            case Frequency.Interval:
                return day.PlusDays(schedule.Interval);
            case Frequency.SpecificDays:
                var next = day.PlusDays(1);
                for (var i = 0; i < 6 && !schedule.FallsOn(next); i++)
                {
                    next = next.PlusDays(1);
                }

                return next;
            default:
                return day.PlusDays(1);
        }
    }

    /// <returns>The last day on or before <paramref name="day"/> that the frequency falls on, or null when that is before the first day.</returns>
    private static LocalDate? PreviousOrSameScheduledDay(HabitSchedule schedule, LocalDate day)
    {
        if (day < schedule.FirstDay)
        {
            return null;
        }

        switch (schedule.Frequency)
        {
            case Frequency.Interval:
                day = day.PlusDays(-(Period.DaysBetween(schedule.FirstDay, day) % schedule.Interval));
                break;
            case Frequency.SpecificDays:
                for (var i = 0; i < 7 && !schedule.FallsOn(day); i++)
                {
                    day = day.PlusDays(-1);
                }

                break;
        }

        return day >= schedule.FirstDay ? day : null;
    }
}
