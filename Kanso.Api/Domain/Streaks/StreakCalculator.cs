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
/// <item>Skipped and time-off days (<see cref="HabitSchedule.Off"/>) are not scheduled: they
/// neither extend nor break a run; a week without any day that is not off is not scheduled.</item>
/// <item><c>at_most</c> habits complete a day once it is over within the limit; today is never
/// judged (it neither breaks nor extends the run).</item>
/// </list>
/// For <c>at_least</c> day-based habits it only visits the completed days, so a long history costs
/// what its entries cost; <c>at_most</c> and weekly habits walk the history day by day (week by week).
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
        if (schedule.IsAtMost)
        {
            // A day with nothing logged is completed once it is over, so every past scheduled day is
            // visited (the history since the first day, not just its entries).
            for (var day = schedule.FirstDay; day <= lastScheduled && day < today; day = day.PlusDays(1))
            {
                if (schedule.FallsOn(day) && !schedule.IsOff(day) && schedule.IsCompletedOn(day, totals.GetValueOrDefault(day), today))
                {
                    completed.Add(day);
                }
            }
        }
        else
        {
            foreach (var (day, total) in totals)
            {
                if (day >= schedule.FirstDay && day <= lastScheduled && schedule.FallsOn(day) && !schedule.IsOff(day) && schedule.IsCompleted(total))
                {
                    completed.Add(day);
                }
            }

            completed.Sort();
        }

        var (longest, lastRun) = Runs(completed, day => NextScheduledDay(schedule, day));

        var anchor = PreviousOrSameScheduledDay(schedule, lastScheduled);
        var lastCompleted = completed.Count > 0 ? completed[^1] : (LocalDate?)null;
        if (anchor == today && lastCompleted != today)
        {
            anchor = PreviousOrSameScheduledDay(schedule, today.PlusDays(-1));
        }

        return new StreakResult(anchor is not null && lastCompleted == anchor ? lastRun : 0, longest);
    }

    /// <summary>
    /// Week by week from the first day's week: a week is scheduled when its quota (its days the habit
    /// covers and that are not off, at most times_per_week) is above 0, and completed when that many
    /// of those days are. Costs one step per week of the habit's history plus its entries.
    /// </summary>
    private static StreakResult ComputeWeekly(HabitSchedule schedule, IReadOnlyDictionary<LocalDate, double> totals, LocalDate today, LocalDate lastScheduled)
    {
        var completedDays = new Dictionary<LocalDate, int>();
        void Count(LocalDate day)
        {
            var week = HabitSchedule.WeekOf(day);
            completedDays[week] = completedDays.GetValueOrDefault(week) + 1;
        }

        if (schedule.IsAtMost)
        {
            for (var day = schedule.FirstDay; day <= lastScheduled && day < today; day = day.PlusDays(1))
            {
                if (!schedule.IsOff(day) && schedule.IsCompletedOn(day, totals.GetValueOrDefault(day), today))
                {
                    Count(day);
                }
            }
        }
        else
        {
            foreach (var (day, total) in totals)
            {
                if (day >= schedule.FirstDay && day <= lastScheduled && !schedule.IsOff(day) && schedule.IsCompleted(total))
                {
                    Count(day);
                }
            }
        }

        // The scheduled weeks in order, each completed or not.
        var weeks = new List<(LocalDate Monday, bool Completed)>();
        var lastWeek = HabitSchedule.WeekOf(lastScheduled);
        for (var monday = HabitSchedule.WeekOf(schedule.FirstDay); monday <= lastWeek; monday = monday.PlusDays(7))
        {
            var quota = schedule.WeeklyQuota(monday, LocalDate.MinIsoValue, LocalDate.MaxIsoValue);
            if (quota > 0)
            {
                weeks.Add((monday, completedDays.GetValueOrDefault(monday) >= quota));
            }
        }

        int longest = 0, run = 0;
        foreach (var week in weeks)
        {
            run = week.Completed ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        // This week, while open and not yet completed, neither breaks nor extends the run.
        var current = 0;
        var thisWeek = HabitSchedule.WeekOf(today);
        for (var i = weeks.Count - 1; i >= 0; i--)
        {
            if (!weeks[i].Completed)
            {
                if (lastScheduled == today && weeks[i].Monday == thisWeek && current == 0)
                {
                    continue;
                }

                break;
            }

            current++;
        }

        return new StreakResult(current, longest);
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

    /// <summary>The next day after <paramref name="day"/> the frequency falls on that is not off.</summary>
    private static LocalDate NextScheduledDay(HabitSchedule schedule, LocalDate day)
    {
        var next = NextFrequencyDay(schedule, day);
        while (schedule.IsOff(next))
        {
            next = NextFrequencyDay(schedule, next);
        }

        return next;
    }

    private static LocalDate NextFrequencyDay(HabitSchedule schedule, LocalDate day)
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
        var found = PreviousOrSameFrequencyDay(schedule, day);
        while (found is { } d && schedule.IsOff(d))
        {
            found = PreviousOrSameFrequencyDay(schedule, d.PlusDays(-1));
        }

        return found;
    }

    private static LocalDate? PreviousOrSameFrequencyDay(HabitSchedule schedule, LocalDate day)
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
