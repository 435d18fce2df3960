using NodaTime;

namespace Kanso.Api.Domain.Streaks;

/// <summary>
/// Scheduled and completed days of one habit over a range of local days, for the stats. Uses the
/// same schedule (and, for weekly habits, the same <see cref="HabitSchedule.WeeklyQuota"/>) as the
/// <see cref="StreakCalculator"/>, so a day or a week the stats count as completed is one the
/// streaks count too. Skipped and time-off days are not scheduled; an <c>at_most</c> day is
/// scheduled once it is over.
/// </summary>
internal static class StatsCalculator
{
    /// <param name="progress">The summed value per day of the range, <paramref name="start"/> first.</param>
    public static (int Scheduled, int Completed) Count(HabitSchedule schedule, LocalDate start, LocalDate end, LocalDate today, IReadOnlyList<double> progress)
    {
        // A day can only be scheduled when it is the habit's, and is not in the future; an at_most
        // day is not judged until it is over, so for those today is not scheduled yet.
        var lastOpen = schedule.IsAtMost ? today.PlusDays(-1) : today;
        var lastCandidate = end < lastOpen ? end : lastOpen;
        int scheduled = 0, completed = 0;
        if (schedule.Frequency == Frequency.Weekly)
        {
            // Per week the range touches, the quota is scheduled and at most that many completed days count.
            for (var monday = HabitSchedule.WeekOf(start); monday <= lastCandidate;)
            {
                var sunday = HabitSchedule.SundayOf(monday);
                var quota = schedule.WeeklyQuota(monday, start, lastCandidate);
                var done = 0;
                for (var day = monday < start ? start : monday; day <= lastCandidate && day <= sunday; day = day.PlusDays(1))
                {
                    done += schedule.IsWithinHabit(day) && !schedule.IsOff(day) && schedule.IsCompletedOn(day, progress[Period.DaysBetween(start, day)], today) ? 1 : 0;
                }

                scheduled += quota;
                completed += Math.Min(quota, done);
                if (sunday >= lastCandidate)
                {
                    break;
                }

                monday = sunday.PlusDays(1);
            }

            return (scheduled, completed);
        }

        for (var i = 0; i < progress.Count && start.PlusDays(i) is var day && day <= lastCandidate; i++)
        {
            if (schedule.IsWithinHabit(day) && schedule.FallsOn(day) && !schedule.IsOff(day))
            {
                scheduled++;
                completed += schedule.IsCompletedOn(day, progress[i], today) ? 1 : 0;
            }
        }

        return (scheduled, completed);
    }
}
