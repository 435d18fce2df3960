using CsCheck;
using Kanso.Api.Domain.Streaks;
using NodaTime;

namespace Kanso.Api.Tests.Domain.Streaks;

/// <summary>The stats and the streaks read one weekly quota: fed the same history, they agree on every finished week.</summary>
public sealed class WeeklyQuotaTests
{
    [Fact]
    public void Stats_and_streaks_agree_on_which_weeks_are_completed()
    {
        var gen =
            from timesPerWeek in Gen.Int[1, 7]
            from target in Gen.Int[1, 2]
            from firstOffset in Gen.Int[0, 20]
            from lastOffset in Gen.Int[-1, 60]
            from days in Gen.Select(Gen.Int[0, 62], Gen.Int[0, 2]).Array[0, 60]
            select (timesPerWeek, target, firstOffset, lastOffset, days);

        // A Monday; "today" is in a later week with no entries, so every week with entries is finished.
        var origin = new LocalDate(2026, 1, 5);
        var today = origin.PlusDays(70);
        gen.Sample(c =>
        {
            var schedule = new HabitSchedule(
                Frequency.Weekly, 0, 1, c.timesPerWeek, c.target,
                origin.PlusDays(c.firstOffset), c.lastOffset < 0 ? null : origin.PlusDays(Math.Max(c.firstOffset, c.lastOffset)));
            var totals = new Dictionary<LocalDate, double>();
            foreach (var (offset, value) in c.days)
            {
                totals[origin.PlusDays(offset)] = totals.GetValueOrDefault(origin.PlusDays(offset)) + value;
            }

            // The stats, one week at a time: a week is completed when every scheduled day of it is.
            var completedWeeks = new List<bool>();
            for (var monday = origin; monday < HabitSchedule.WeekOf(today); monday = monday.PlusDays(7))
            {
                var progress = Enumerable.Range(0, 7).Select(i => totals.GetValueOrDefault(monday.PlusDays(i))).ToArray();
                var (scheduled, completed) = StatsCalculator.Count(schedule, monday, monday.PlusDays(6), today, progress);
                if (scheduled > 0)
                {
                    completedWeeks.Add(completed == scheduled);
                }
            }

            int longest = 0, run = 0;
            foreach (var completed in completedWeeks)
            {
                run = completed ? run + 1 : 0;
                longest = Math.Max(longest, run);
            }

            Assert.Equal(longest, StreakCalculator.Compute(schedule, totals, today).Longest);
        }, iter: 5_000);
    }
}
