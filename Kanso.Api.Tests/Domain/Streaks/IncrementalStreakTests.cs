using Kanso.Api.Domain.Streaks;
using NodaTime;

namespace Kanso.Api.Tests.Domain.Streaks;

/// <summary>
/// The incremental recompute (resume from the stored checkpoint with the entries from its date on)
/// against the full one (<see cref="StreakCalculator.Compute"/> over the whole history, itself
/// checked against the day-by-day oracle in <see cref="StreakCalculatorTests"/>), on random write
/// sequences that mark the habit the way the writers do.
/// </summary>
public sealed class IncrementalStreakTests
{
    private static readonly LocalDate Origin = new(2025, 6, 2);

    [Fact]
    public void Incremental_recompute_equals_the_full_one_on_random_write_sequences()
    {
        var (recomputes, incremental) = (0, 0);
        for (var seed = 0; seed < 4_000; seed++)
        {
            var (r, i) = RunSequence(seed);
            recomputes += r;
            incremental += i;
        }

        // The property is only worth something if most recomputes do resume from a checkpoint.
        Assert.True(incremental > recomputes / 2, $"{incremental} of {recomputes} recomputes were incremental");
    }

    [Fact]
    public void A_checkpoint_of_another_version_or_garbage_is_no_checkpoint()
    {
        var stored = new StreakCheckpoint(new LocalDate(2026, 3, 2), new RunState(3, 9), "AB").ToJson();

        Assert.Equal(new StreakCheckpoint(new LocalDate(2026, 3, 2), new RunState(3, 9), "AB"), StreakCheckpoint.FromJson(stored));
        Assert.Null(StreakCheckpoint.FromJson(stored.Replace("\"v\":1", "\"v\":2", StringComparison.Ordinal)));
        Assert.Null(StreakCheckpoint.FromJson("{\"v\":1}"));
        Assert.Null(StreakCheckpoint.FromJson("not json"));
        Assert.Null(StreakCheckpoint.FromJson(null));
    }

    [Fact]
    public void A_recent_write_resumes_and_an_old_one_walks_the_whole_history()
    {
        var schedule = new HabitSchedule(Frequency.Daily, 0, 1, 1, 1, Origin, null);
        var today = Origin.PlusDays(300);
        var entries = Enumerable.Range(0, 301).Where(d => d % 3 != 1).Select(d => (Origin.PlusDays(d), false, 1.0)).ToList();
        var (_, checkpoint) = IncrementalStreak.Run(schedule, [], null, entries, today);
        Assert.NotNull(checkpoint);
        Assert.True(checkpoint.Date > today.PlusDays(-22) && checkpoint.Date <= today.PlusDays(-14));

        Assert.Equal(checkpoint, IncrementalStreak.Plan(schedule, [], checkpoint, dirty: true, dirtyFrom: today, today));
        Assert.Equal(checkpoint, IncrementalStreak.Plan(schedule, [], checkpoint, dirty: false, dirtyFrom: null, today.PlusDays(3)));
        Assert.Null(IncrementalStreak.Plan(schedule, [], checkpoint, dirty: true, dirtyFrom: checkpoint.Date.PlusDays(-1), today));
        Assert.Null(IncrementalStreak.Plan(schedule, [], checkpoint, dirty: true, dirtyFrom: null, today));
        Assert.Null(IncrementalStreak.Plan(schedule with { TargetValue = 2 }, [], checkpoint, dirty: false, dirtyFrom: null, today));
        Assert.Null(IncrementalStreak.Plan(schedule, [(Origin.PlusDays(10), Origin.PlusDays(12))], checkpoint, dirty: false, dirtyFrom: null, today));
        // Time off from the checkpoint on is read with every recompute: the checkpoint still holds.
        Assert.Equal(checkpoint, IncrementalStreak.Plan(schedule, [(today, today.PlusDays(2))], checkpoint, dirty: false, dirtyFrom: null, today));
    }

    /// <returns>How many recomputes the sequence ran, and how many of them resumed from a checkpoint.</returns>
    private static (int Recomputes, int Incremental) RunSequence(int seed)
    {
        var random = new Random(seed);
        var schedule = RandomSchedule(random);
        var today = Origin.PlusDays(random.Next(0, 200));
        var entries = new List<(LocalDate Day, bool Skip, double Value)>();
        var timeOff = new List<(LocalDate Start, LocalDate End)>();
        for (var i = random.Next(0, 120); i > 0; i--)
        {
            entries.Add((Origin.PlusDays(random.Next(-5, 200)), random.Next(10) == 0, random.Next(0, 4)));
        }

        // What the habits row holds: the checkpoint as stored, and the marks the writers leave.
        string? stored = null;
        var dirty = true;
        LocalDate? dirtyFrom = null;
        var wholeHistory = false;
        void Touch(LocalDate day)
        {
            dirty = true;
            dirtyFrom = dirtyFrom is { } d && d < day ? d : day;
        }

        var (recomputes, incremental) = (0, 0);
        for (var step = 0; step < 40; step++)
        {
            switch (random.Next(100))
            {
                case < 35: // an entry (or a skip), created
                    var day = RandomDay(random, today);
                    entries.Add((day, random.Next(8) == 0, random.Next(0, 4) + (random.Next(4) == 0 ? 0.5 : 0)));
                    Touch(day);
                    break;
                case < 50 when entries.Count > 0: // updated: value, kind or day
                    var at = random.Next(entries.Count);
                    var old = entries[at];
                    var moved = random.Next(3) == 0 ? RandomDay(random, today) : old.Day;
                    entries[at] = (moved, random.Next(10) == 0 ? !old.Skip : old.Skip, random.Next(0, 4));
                    Touch(old.Day);
                    Touch(moved);
                    break;
                case < 60 when entries.Count > 0: // deleted
                    var gone = random.Next(entries.Count);
                    Touch(entries[gone].Day);
                    entries.RemoveAt(gone);
                    break;
                case < 66: // time off created, changed or deleted: marks dirty, says nothing of dates
                    if (timeOff.Count > 0 && random.Next(2) == 0)
                    {
                        timeOff.RemoveAt(random.Next(timeOff.Count));
                    }

                    if (random.Next(3) > 0)
                    {
                        var start = random.Next(2) == 0 ? RandomDay(random, today) : Origin.PlusDays(random.Next(0, 200));
                        timeOff.Add((start, start.PlusDays(random.Next(-1, 10))));
                    }

                    dirty = true;
                    break;
                case < 69: // the habit's schedule, goal or target changed (or a new zone moved its first day)
                    schedule = random.Next(3) == 0 ? RandomSchedule(random) : schedule with { TargetValue = random.Next(0, 3) };
                    if (schedule.Goal == HabitGoal.AtLeast && schedule.TargetValue < 1)
                    {
                        schedule = schedule with { TargetValue = 1 };
                    }

                    dirty = true;
                    break;
                case < 71: // an import: entries of any date, the whole history
                    for (var n = random.Next(1, 5); n > 0; n--)
                    {
                        entries.Add((Origin.PlusDays(random.Next(-5, 200)), false, 1));
                    }

                    dirty = true;
                    wholeHistory = true;
                    break;
                default: // days pass (the due sweep recomputes without any write)
                    today = today.PlusDays(random.Next(0, 3) == 0 ? random.Next(1, 30) : 1);
                    break;
            }

            // Not every write is followed by its own recompute: several are coalesced.
            if (random.Next(3) == 0)
            {
                continue;
            }

            var resume = IncrementalStreak.Plan(schedule, timeOff, StreakCheckpoint.FromJson(stored), dirty || wholeHistory, wholeHistory ? null : dirtyFrom, today);
            var read = resume is null ? entries : entries.Where(e => e.Day >= resume.Date).ToList();
            var (result, next) = IncrementalStreak.Run(schedule, timeOff, resume, read, today);

            var withOff = new DaysOff(entries.Where(e => e.Skip).Select(e => e.Day), timeOff);
            var totals = new Dictionary<LocalDate, double>();
            foreach (var (d, skip, value) in entries.Where(e => !e.Skip))
            {
                totals[d] = totals.GetValueOrDefault(d) + value;
            }

            var full = StreakCalculator.Compute(withOff.IsEmpty ? schedule : schedule with { Off = withOff }, totals, today);
            if (full != result)
            {
                Assert.Fail($"seed {seed}, step {step}: incremental {result} from {resume?.Date.ToString() ?? "the start"}, full {full} (today {today}, {schedule})");
            }

            recomputes++;
            incremental += resume is null ? 0 : 1;
            stored = next?.ToJson();
            (dirty, dirtyFrom, wholeHistory) = (false, null, false);
        }

        return (recomputes, incremental);
    }

    private static HabitSchedule RandomSchedule(Random random)
    {
        var atMost = random.Next(4) == 0;
        var first = Origin.PlusDays(random.Next(0, 60));
        return new HabitSchedule(
            (Frequency)random.Next(4),
            random.Next(1, 128),
            random.Next(1, 7),
            random.Next(1, 8),
            atMost ? random.Next(0, 3) : random.Next(1, 3) + (random.Next(4) == 0 ? 0.5 : 0),
            first,
            random.Next(4) == 0 ? first.PlusDays(random.Next(-3, 250)) : null,
            atMost ? HabitGoal.AtMost : HabitGoal.AtLeast);
    }

    /// <summary>Mostly the last few days, sometimes weeks back, sometimes anywhere in the history, sometimes the days ahead.</summary>
    private static LocalDate RandomDay(Random random, LocalDate today) => random.Next(20) switch
    {
        < 13 => today.PlusDays(-random.Next(0, 4)),
        < 16 => today.PlusDays(-random.Next(4, 30)),
        < 19 => Origin.PlusDays(random.Next(-5, Math.Max(0, (int)Period.DaysBetween(Origin, today)) + 1)),
        _ => today.PlusDays(random.Next(1, 4)),
    };
}
