using NodaTime;

namespace Kanso.Api.Domain.Streaks;

internal readonly record struct StreakResult(int Current, int Longest);

/// <summary>
/// Where a walk of <see cref="StreakCalculator"/> stands: the length of the run that reaches the
/// last scheduled day (week) walked (0 when that one was missed), and the longest run so far.
/// </summary>
internal readonly record struct RunState(int Run, int Longest);

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
/// <para>
/// It walks the history in order, day by day (week by week for <c>weekly</c>), carrying only the
/// length of the run so far and the longest run (<see cref="RunState"/>). So the walk can stop at
/// any Monday that every scheduled day before it is judged (<see cref="Advance"/>) and resume
/// there later (<see cref="Finish"/>) with the totals from that Monday on: the streak worker keeps
/// such a checkpoint per habit (<see cref="StreakCheckpoint"/>) and reads only the entries since.
/// </para>
/// </summary>
internal static class StreakCalculator
{
    public static StreakResult Compute(HabitSchedule schedule, IReadOnlyDictionary<LocalDate, double> totals, LocalDate today) =>
        Finish(schedule, totals, Start(schedule), default, today);

    /// <summary>Where a walk of the whole history starts (with an empty state): the Monday of the first day's week.</summary>
    public static LocalDate Start(HabitSchedule schedule) => HabitSchedule.WeekOf(schedule.FirstDay);

    /// <summary>
    /// The last scheduled day the walk judges: the habit's last day, or today; before the first
    /// day, none (nothing is scheduled yet).
    /// </summary>
    public static LocalDate? LastScheduled(HabitSchedule schedule, LocalDate today)
    {
        var lastScheduled = schedule.LastDay is { } lastDay && lastDay < today ? lastDay : today;
        return lastScheduled < schedule.FirstDay ? null : lastScheduled;
    }

    /// <summary>
    /// The latest Monday a walk may stop at and resume from, with <paramref name="today"/>: every
    /// day (week) before it is over and judged for good, so only the entries from it on can change
    /// what comes after. None when nothing is scheduled yet.
    /// </summary>
    public static LocalDate? LatestCheckpoint(HabitSchedule schedule, LocalDate today) =>
        LastScheduled(schedule, today) is { } last ? HabitSchedule.WeekOf(last) : null;

    /// <summary>
    /// Walks the days (weeks) in [<paramref name="from"/>, <paramref name="to"/>), both Mondays with
    /// <paramref name="to"/> at most <see cref="LatestCheckpoint"/>, from the state at
    /// <paramref name="from"/>; <paramref name="totals"/> needs only the days of that span.
    /// </summary>
    public static RunState Advance(HabitSchedule schedule, IReadOnlyDictionary<LocalDate, double> totals, RunState state, LocalDate from, LocalDate to, LocalDate today)
    {
        var (run, longest) = state;
        if (schedule.Frequency == Frequency.Weekly)
        {
            for (var monday = from; monday < to; monday = monday.PlusDays(7))
            {
                var quota = schedule.WeeklyQuota(monday, LocalDate.MinIsoValue, LocalDate.MaxIsoValue);
                if (quota > 0)
                {
                    run = CompletedDays(schedule, totals, monday, HabitSchedule.SundayOf(monday), today) >= quota ? run + 1 : 0;
                    longest = Math.Max(longest, run);
                }
            }

            return new RunState(run, longest);
        }

        for (var day = from; day < to; day = day.PlusDays(1))
        {
            if (IsScheduled(schedule, day))
            {
                run = schedule.IsCompletedOn(day, totals.GetValueOrDefault(day), today) ? run + 1 : 0;
                longest = Math.Max(longest, run);
            }
        }

        return new RunState(run, longest);
    }

    /// <summary>
    /// The streaks, walking on from the state at <paramref name="from"/> (a Monday at most
    /// <see cref="LatestCheckpoint"/>; <see cref="Start"/> with an empty state for the whole
    /// history) to today. <paramref name="totals"/> needs only the days from <paramref name="from"/> on.
    /// </summary>
    public static StreakResult Finish(HabitSchedule schedule, IReadOnlyDictionary<LocalDate, double> totals, LocalDate from, RunState state, LocalDate today)
    {
        if (LastScheduled(schedule, today) is not { } lastScheduled)
        {
            return default;
        }

        // Everything before the last scheduled day (its week) is over: walk it; the last one may
        // still be open.
        bool? lastCompleted;
        if (schedule.Frequency == Frequency.Weekly)
        {
            var lastWeek = HabitSchedule.WeekOf(lastScheduled);
            state = Advance(schedule, totals, state, from, lastWeek, today);
            var quota = schedule.WeeklyQuota(lastWeek, LocalDate.MinIsoValue, LocalDate.MaxIsoValue);
            lastCompleted = quota > 0 ? CompletedDays(schedule, totals, lastWeek, lastScheduled, today) >= quota : null;
        }
        else
        {
            state = Advance(schedule, totals, state, from, lastScheduled, today);
            lastCompleted = IsScheduled(schedule, lastScheduled) ? schedule.IsCompletedOn(lastScheduled, totals.GetValueOrDefault(lastScheduled), today) : null;
        }

        var (run, longest) = state;
        return lastCompleted switch
        {
            // Not scheduled: the run reaching it is the current one.
            null => new StreakResult(run, longest),
            true => new StreakResult(run + 1, Math.Max(longest, run + 1)),
            // Today (this week) is still open: until it is completed it does not break the run.
            false => new StreakResult(lastScheduled == today ? run : 0, longest),
        };
    }

    /// <summary>A day the frequency falls on within the habit that is not off (not for weekly habits).</summary>
    private static bool IsScheduled(HabitSchedule schedule, LocalDate day) =>
        schedule.IsWithinHabit(day) && schedule.FallsOn(day) && !schedule.IsOff(day);

    /// <summary>The completed days of the habit in [<paramref name="first"/>, <paramref name="last"/>] that are not off.</summary>
    private static int CompletedDays(HabitSchedule schedule, IReadOnlyDictionary<LocalDate, double> totals, LocalDate first, LocalDate last, LocalDate today)
    {
        var done = 0;
        for (var day = first; day <= last; day = day.PlusDays(1))
        {
            done += schedule.IsWithinHabit(day) && !schedule.IsOff(day) && schedule.IsCompletedOn(day, totals.GetValueOrDefault(day), today) ? 1 : 0;
            if (day == LocalDate.MaxIsoValue)
            {
                break;
            }
        }

        return done;
    }
}
