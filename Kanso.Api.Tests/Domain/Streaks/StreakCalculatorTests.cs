using CsCheck;
using Kanso.Api.Domain.Streaks;
using NodaTime;

namespace Kanso.Api.Tests.Domain.Streaks;

public sealed class StreakCalculatorTests
{
    // A Wednesday. Its week runs Monday 16 to Sunday 22 March 2026.
    private static readonly LocalDate Today = new(2026, 3, 18);

    private static HabitSchedule Daily(int firstDaysAgo = 60, double target = 1, LocalDate? lastDay = null) =>
        new(Frequency.Daily, 0, 1, 1, target, Today.PlusDays(-firstDaysAgo), lastDay);

    private static HabitSchedule SpecificDays(params int[] weekdays) =>
        new(Frequency.SpecificDays, weekdays.Aggregate(0, (mask, d) => mask | (1 << d)), 1, 1, 1, Today.PlusDays(-60), null);

    private static HabitSchedule EveryNDays(int interval, int firstDaysAgo) =>
        new(Frequency.Interval, 0, interval, 1, 1, Today.PlusDays(-firstDaysAgo), null);

    private static HabitSchedule Weekly(int timesPerWeek, LocalDate? firstDay = null, LocalDate? lastDay = null) =>
        new(Frequency.Weekly, 0, 1, timesPerWeek, 1, firstDay ?? Today.PlusDays(-60), lastDay);

    /// <summary>Totals of 1 on the given days, counted back from today (0 = today).</summary>
    private static Dictionary<LocalDate, double> Done(params int[] daysAgo) => daysAgo.ToDictionary(d => Today.PlusDays(-d), _ => 1.0);

    private static StreakResult Compute(HabitSchedule schedule, Dictionary<LocalDate, double> totals) =>
        StreakCalculator.Compute(schedule, totals, Today);

    [Fact]
    public void Zero_when_nothing_is_done()
    {
        Assert.Equal(new StreakResult(0, 0), Compute(Daily(), Done()));
    }

    [Fact]
    public void Daily_counts_today_when_it_is_done()
    {
        Assert.Equal(new StreakResult(3, 3), Compute(Daily(), Done(0, 1, 2)));
    }

    [Fact]
    public void Daily_today_not_done_yet_does_not_break_the_streak()
    {
        Assert.Equal(new StreakResult(3, 3), Compute(Daily(), Done(1, 2, 3)));
    }

    [Fact]
    public void Daily_missed_yesterday_with_no_write_since_is_zero()
    {
        Assert.Equal(new StreakResult(0, 4), Compute(Daily(), Done(2, 3, 4, 5)));
    }

    [Fact]
    public void Daily_missed_yesterday_but_done_today_is_one()
    {
        Assert.Equal(new StreakResult(1, 2), Compute(Daily(), Done(0, 2, 3)));
    }

    [Fact]
    public void Daily_longest_is_the_longest_run_in_the_history()
    {
        Assert.Equal(new StreakResult(2, 5), Compute(Daily(), Done(0, 1, 10, 11, 12, 13, 14, 20, 21)));
    }

    [Fact]
    public void Daily_day_is_completed_only_when_its_total_reaches_the_target()
    {
        var totals = new Dictionary<LocalDate, double>
        {
            [Today.PlusDays(-1)] = 3,
            [Today.PlusDays(-2)] = 2.5,
            [Today.PlusDays(-3)] = 4,
            [Today.PlusDays(-4)] = 3,
        };

        Assert.Equal(new StreakResult(1, 2), Compute(Daily(target: 3), totals));
    }

    [Fact]
    public void Daily_tenths_that_sum_to_the_target_complete_the_day()
    {
        var tenTenths = Enumerable.Repeat(0.1, 10).Sum();

        Assert.Equal(new StreakResult(1, 1), Compute(Daily(), new Dictionary<LocalDate, double> { [Today] = tenTenths }));
    }

    [Fact]
    public void Days_before_the_first_day_and_after_today_are_not_scheduled()
    {
        Assert.Equal(new StreakResult(2, 2), Compute(Daily(firstDaysAgo: 2), Done(-1, -2, 1, 2, 3, 4, 5)));
    }

    [Fact]
    public void Nothing_is_scheduled_before_the_habit_starts()
    {
        Assert.Equal(new StreakResult(0, 0), Compute(Daily(firstDaysAgo: -3), Done(0, 1, -3, -4)));
    }

    [Fact]
    public void Ended_habit_keeps_the_run_up_to_its_last_day_and_ignores_later_days()
    {
        var schedule = Daily(lastDay: Today.PlusDays(-5));

        Assert.Equal(new StreakResult(3, 3), Compute(schedule, Done(0, 1, 2, 3, 5, 6, 7)));
    }

    [Fact]
    public void Ended_habit_whose_last_day_is_today_is_still_open_today()
    {
        Assert.Equal(new StreakResult(2, 2), Compute(Daily(lastDay: Today), Done(1, 2)));
    }

    [Fact]
    public void Specific_days_skip_unscheduled_days_without_breaking()
    {
        // Mon 16 and Fri 13 done, Wed 11 done; today (Wed 18) not yet; Tue 17 and Thu 12 unscheduled.
        var schedule = SpecificDays(1, 3, 5);

        Assert.Equal(new StreakResult(3, 3), Compute(schedule, Done(2, 5, 7)));
    }

    [Fact]
    public void Specific_days_completions_on_unscheduled_days_do_not_count()
    {
        var schedule = SpecificDays(1, 3, 5);

        Assert.Equal(new StreakResult(1, 1), Compute(schedule, Done(0, 1, 3, 4)));
    }

    [Fact]
    public void Specific_days_missed_last_scheduled_day_is_zero()
    {
        // Monday 16 missed, nothing written since; Friday 13 and Wednesday 11 done.
        var schedule = SpecificDays(1, 3, 5);

        Assert.Equal(new StreakResult(0, 2), Compute(schedule, Done(5, 7)));
    }

    [Fact]
    public void Specific_days_today_unscheduled_counts_up_to_the_last_scheduled_day()
    {
        // Only Mondays and Tuesdays; today is Wednesday.
        var schedule = SpecificDays(1, 2);

        Assert.Equal(new StreakResult(3, 3), Compute(schedule, Done(1, 2, 8)));
    }

    [Fact]
    public void Interval_counts_every_nth_day_from_the_first_day()
    {
        // First day 9 days ago: scheduled 9, 6, 3 days ago and today; 8 days ago is not scheduled.
        var schedule = EveryNDays(3, firstDaysAgo: 9);

        Assert.Equal(new StreakResult(3, 3), Compute(schedule, Done(3, 6, 8, 9)));
    }

    [Fact]
    public void Interval_missed_last_scheduled_day_is_zero()
    {
        var schedule = EveryNDays(3, firstDaysAgo: 9);

        Assert.Equal(new StreakResult(0, 2), Compute(schedule, Done(6, 9)));
    }

    [Fact]
    public void Interval_missed_yesterday_with_no_write_since_is_zero()
    {
        // Scheduled 10, 7, 4 and 1 days ago; today is not scheduled.
        var schedule = EveryNDays(3, firstDaysAgo: 10);

        Assert.Equal(new StreakResult(0, 3), Compute(schedule, Done(4, 7, 10)));
    }

    [Fact]
    public void Interval_done_yesterday_keeps_the_streak_on_an_unscheduled_today()
    {
        var schedule = EveryNDays(3, firstDaysAgo: 10);

        Assert.Equal(new StreakResult(4, 4), Compute(schedule, Done(1, 4, 7, 10)));
    }

    [Fact]
    public void Weekly_this_week_not_completed_yet_does_not_break_the_streak()
    {
        // Weeks of 2 and 9 March each have 3 completed days; this week has 1 so far.
        var schedule = Weekly(3);

        Assert.Equal(new StreakResult(2, 2), Compute(schedule, Done(0, 5, 6, 8, 11, 13, 15)));
    }

    [Fact]
    public void Weekly_this_week_completed_counts()
    {
        var schedule = Weekly(2);

        Assert.Equal(new StreakResult(2, 2), Compute(schedule, Done(0, 2, 5, 6)));
    }

    [Fact]
    public void Weekly_missed_last_week_with_no_write_since_is_zero()
    {
        // Last week (9-15 March) has 2 of 3 days; the week before has 3.
        var schedule = Weekly(3);

        Assert.Equal(new StreakResult(0, 1), Compute(schedule, Done(0, 5, 6, 10, 11, 12)));
    }

    [Fact]
    public void Weekly_partial_first_week_needs_only_the_days_it_covers()
    {
        // First day Saturday 7 March: its week covers 2 days, so 2 of them complete it.
        var schedule = Weekly(3, firstDay: new LocalDate(2026, 3, 7));

        Assert.Equal(new StreakResult(2, 2), Compute(schedule, Done(10, 11, 5, 6, 7)));
    }

    [Fact]
    public void Weekly_partial_last_week_of_an_ended_habit_needs_only_the_days_it_covers()
    {
        // Last day Tuesday 10 March: that week covers 2 days.
        var schedule = Weekly(4, lastDay: new LocalDate(2026, 3, 10));

        Assert.Equal(new StreakResult(2, 2), Compute(schedule, Done(8, 9, 10, 11, 12, 13)));
    }

    [Fact]
    public void Weekly_longest_spans_consecutive_completed_weeks_only()
    {
        var schedule = Weekly(1);

        Assert.Equal(new StreakResult(1, 3), Compute(schedule, Done(3, 17, 24, 31)));
    }

    [Fact]
    public void Weekly_days_before_the_first_day_do_not_count()
    {
        // First day Thursday 12 March; Monday 9 to Wednesday 11 are before it.
        var schedule = Weekly(3, firstDay: new LocalDate(2026, 3, 12));

        Assert.Equal(new StreakResult(0, 0), Compute(schedule, Done(7, 8, 9, 6)));
    }

    [Fact]
    public void Matches_a_day_by_day_oracle_on_random_histories()
    {
        var gen =
            from frequency in Gen.Int[0, 3]
            from mask in Gen.Int[1, 127]
            from interval in Gen.Int[1, 6]
            from timesPerWeek in Gen.Int[1, 7]
            from target in Gen.Int[1, 3]
            from origin in Gen.Int[0, 6]
            from firstOffset in Gen.Int[0, 30]
            from todayOffset in Gen.Int[0, 70]
            from lastOffset in Gen.Int[-1, 70]
            from days in Gen.Select(Gen.Int[-3, 75], Gen.Int[0, 4]).Array[0, 70]
            select (frequency, mask, interval, timesPerWeek, target, origin, firstOffset, todayOffset, lastOffset, days);

        gen.Sample(c =>
        {
            var origin = new LocalDate(2026, 1, 5).PlusDays(c.origin);
            var schedule = new HabitSchedule(
                (Frequency)c.frequency, c.mask, c.interval, c.timesPerWeek, c.target,
                origin.PlusDays(c.firstOffset), c.lastOffset < 0 ? null : origin.PlusDays(c.lastOffset));
            var totals = new Dictionary<LocalDate, double>();
            foreach (var (offset, value) in c.days)
            {
                totals[origin.PlusDays(offset)] = totals.GetValueOrDefault(origin.PlusDays(offset)) + value;
            }

            var today = origin.PlusDays(c.todayOffset);

            Assert.Equal(StreakOracle.Compute(schedule, totals, today), StreakCalculator.Compute(schedule, totals, today));
        }, iter: 20_000);
    }

    /// <summary>
    /// The same oracle with the rules of "habits as people live them": skipped days, time off ranges,
    /// at_most goals (targets from 0) and a day start, which moves both the entries' days and today.
    /// </summary>
    [Fact]
    public void Matches_the_oracle_with_skips_time_off_at_most_and_day_start()
    {
        var gen =
            from frequency in Gen.Int[0, 3]
            from mask in Gen.Int[1, 127]
            from interval in Gen.Int[1, 6]
            from timesPerWeek in Gen.Int[1, 7]
            from atMost in Gen.Bool
            from target in Gen.Int[0, 3]
            from origin in Gen.Int[0, 6]
            from firstOffset in Gen.Int[0, 30]
            from nowMinutes in Gen.Int[0, 70 * 24 * 60]
            from dayStart in Gen.Int[0, 360]
            from lastOffset in Gen.Int[-1, 70]
            from entries in Gen.Select(Gen.Int[-3 * 24 * 60, 75 * 24 * 60], Gen.Int[0, 4]).Array[0, 70]
            from skips in Gen.Int[-3, 75].Array[0, 12]
            from ranges in Gen.Select(Gen.Int[-3, 75], Gen.Int[0, 9]).Array[0, 4]
            select (frequency, mask, interval, timesPerWeek, atMost, target, origin, firstOffset, nowMinutes, dayStart, lastOffset, entries, skips, ranges);

        gen.Sample(c =>
        {
            var origin = new LocalDate(2026, 1, 5).PlusDays(c.origin);
            var atMost = c.atMost;
            var target = atMost ? c.target : Math.Max(1, c.target);
            var off = new DaysOff(
                c.skips.Select(d => origin.PlusDays(d)),
                c.ranges.Select(r => (origin.PlusDays(r.Item1), origin.PlusDays(r.Item1 + r.Item2))));
            var schedule = new HabitSchedule(
                (Frequency)c.frequency, c.mask, c.interval, c.timesPerWeek, target,
                origin.PlusDays(c.firstOffset), c.lastOffset < 0 ? null : origin.PlusDays(c.lastOffset),
                atMost ? HabitGoal.AtMost : HabitGoal.AtLeast, off.IsEmpty ? null : off);

            // Entries and now are local times in UTC; each counts on its day under the day start.
            var zone = DateTimeZone.Utc;
            var start = origin.AtMidnight().InUtc().ToInstant();
            var totals = new Dictionary<LocalDate, double>();
            foreach (var (minutes, value) in c.entries)
            {
                var day = LocalDays.DateOf(start + Duration.FromMinutes(minutes), zone, c.dayStart);
                totals[day] = totals.GetValueOrDefault(day) + value;
            }

            var today = LocalDays.DateOf(start + Duration.FromMinutes(c.nowMinutes), zone, c.dayStart);
            var expected = StreakOracle.Compute(schedule, totals, today, d => c.skips.Any(s => origin.PlusDays(s) == d)
                || c.ranges.Any(r => d >= origin.PlusDays(r.Item1) && d <= origin.PlusDays(r.Item1 + r.Item2)));

            Assert.Equal(expected, StreakCalculator.Compute(schedule, totals, today));
        }, iter: 25_000);
    }

    [Fact]
    public void A_day_start_puts_an_early_morning_completion_on_the_day_before()
    {
        var at = Instant.FromUtc(2026, 3, 18, 0, 30); // 01:30 in Rome

        Assert.Equal(new LocalDate(2026, 3, 17), LocalDays.DateOf(at, DateTimeZoneProviders.Tzdb["Europe/Rome"], 180));
        Assert.Equal(new LocalDate(2026, 3, 18), LocalDays.DateOf(at, DateTimeZoneProviders.Tzdb["Europe/Rome"], 0));
        Assert.Equal(new LocalDate(2026, 3, 18), LocalDays.DateOf(at, DateTimeZoneProviders.Tzdb["Europe/Rome"], 60));
    }

    [Fact]
    public void A_skipped_day_keeps_a_daily_streak_without_extending_it()
    {
        var schedule = Daily() with { Off = new DaysOff([Today.PlusDays(-2)], []) };

        Assert.Equal(new StreakResult(3, 3), Compute(schedule, Done(1, 3, 4)));
    }

    [Fact]
    public void A_week_of_time_off_keeps_daily_and_weekly_streaks()
    {
        var off = new DaysOff([], [(new LocalDate(2026, 3, 9), new LocalDate(2026, 3, 15))]);

        Assert.Equal(new StreakResult(3, 3), Compute(Daily() with { Off = off }, Done(1, 2, 10, 17)));
        Assert.Equal(new StreakResult(2, 2), Compute(Weekly(1) with { Off = off }, Done(1, 10)));
        Assert.Equal(new StreakResult(1, 1), Compute(Weekly(1), Done(1, 10)));
    }

    [Fact]
    public void At_most_counts_days_within_the_limit_once_they_are_over()
    {
        // At most 2 a day for the week of 9 March; 12 March was over the limit (3). Today is open.
        var schedule = new HabitSchedule(Frequency.Daily, 0, 1, 1, 2, new LocalDate(2026, 3, 9), null, HabitGoal.AtMost);
        var totals = new Dictionary<LocalDate, double>
        {
            [new LocalDate(2026, 3, 9)] = 2,
            [new LocalDate(2026, 3, 12)] = 3,
            [new LocalDate(2026, 3, 14)] = 1,
            [Today] = 5,
        };

        // 13 to 17 March are within the limit (5 days); 9 to 11 before the day over it (3 days).
        Assert.Equal(new StreakResult(5, 5), Compute(schedule, totals));
    }
}

/// <summary>The contract's rule walked day by day (week by week), for the property test.</summary>
internal static class StreakOracle
{
    public static StreakResult Compute(HabitSchedule s, IReadOnlyDictionary<LocalDate, double> totals, LocalDate today, Func<LocalDate, bool>? isOff = null)
    {
        isOff ??= _ => false;
        bool InHabit(LocalDate d) => d >= s.FirstDay && (s.LastDay is null || d <= s.LastDay) && d <= today;
        bool Done(LocalDate d) => s.Goal == HabitGoal.AtMost
            ? d < today && totals.GetValueOrDefault(d) <= s.TargetValue
            : totals.TryGetValue(d, out var v) && v >= s.TargetValue;

        // Each scheduled period in order, with whether it is completed and whether it is still open (today's).
        var periods = new List<(bool Completed, bool Open)>();
        if (s.Frequency == Frequency.Weekly)
        {
            var monday = s.FirstDay.PlusDays(-(((int)s.FirstDay.DayOfWeek + 6) % 7));
            for (; monday <= today; monday = monday.PlusDays(7))
            {
                var week = Enumerable.Range(0, 7).Select(monday.PlusDays).ToList();
                if (!week.Any(InHabit))
                {
                    continue;
                }

                var covered = week.Count(d => d >= s.FirstDay && (s.LastDay is null || d <= s.LastDay) && !isOff(d));
                if (covered == 0)
                {
                    continue;
                }

                var done = week.Count(d => InHabit(d) && !isOff(d) && Done(d));
                periods.Add((done >= Math.Min(s.TimesPerWeek, covered), week.Contains(today) && InHabit(today)));
            }
        }
        else
        {
            for (var d = s.FirstDay; d <= today; d = d.PlusDays(1))
            {
                var falls = s.Frequency switch
                {
                    Frequency.SpecificDays => ((s.WeekdayMask >> ((int)d.DayOfWeek % 7)) & 1) == 1,
                    Frequency.Interval => (d.ToDateTimeUnspecified() - s.FirstDay.ToDateTimeUnspecified()).Days % s.Interval == 0,
                    _ => true,
                };
                if (falls && InHabit(d) && !isOff(d))
                {
                    periods.Add((Done(d), d == today));
                }
            }
        }

        int longest = 0, run = 0;
        foreach (var p in periods)
        {
            run = p.Completed ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        var current = 0;
        for (var i = periods.Count - 1; i >= 0; i--)
        {
            if (periods[i].Open && !periods[i].Completed)
            {
                continue;
            }

            if (!periods[i].Completed)
            {
                break;
            }

            current++;
        }

        return new StreakResult(current, longest);
    }
}
