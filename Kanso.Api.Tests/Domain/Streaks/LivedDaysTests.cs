using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using static Kanso.Api.Tests.Infrastructure.TestRows;

namespace Kanso.Api.Tests.Domain.Streaks;

/// <summary>Streaks and stats as people live them: travel, a late day start, skips, time off, at_most habits.</summary>
public sealed class LivedDaysTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const string Rome = "Europe/Rome";
    private const string LosAngeles = "America/Los_Angeles";
    private const string Tokyo = "Asia/Tokyo";

    [Fact]
    public async Task Travel_from_rome_to_los_angeles_to_tokyo_moves_no_day_of_the_stats_or_the_streaks()
    {
        // Monday 9 to Sunday 15 March 2026, each completed at 08:00 where the user was that day.
        // 08:00 Monday in Rome is 23:00 Sunday in Los Angeles; 08:00 in Los Angeles is 01:00 the
        // next day in Tokyo; 08:00 Saturday in Tokyo is 16:00 Friday in Los Angeles.
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 16, 12, 0));
        var user = await CreateUserAsync(Rome);
        var habit = Guid.Parse((string)(await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/habits",
            new { title = "Stretch", start_date = "2026-03-01T12:00:00Z" }, Rome, status: 201))["id"]!);
        var trip = new (string Zone, string Day)[]
        {
            (Rome, "2026-03-09"), (Rome, "2026-03-10"), (Rome, "2026-03-11"),
            (LosAngeles, "2026-03-12"), (LosAngeles, "2026-03-13"),
            (Tokyo, "2026-03-14"), (Tokyo, "2026-03-15"),
        };

        var seen = new List<(string Zone, double[] Progress, int Completed, int Scheduled, int Current, int Longest)>();
        foreach (var (zone, day) in trip)
        {
            var entry = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/entries",
                new { habit_id = habit, completion_date = WireFormat.Format(Local(zone, $"{day}T08:00:00")) }, zone, status: 201);
            Assert.Equal(day, (string?)entry["local_date"]);
        }

        // Each move: the user's zone becomes the new one (X-Timezone), the worker recomputes in it.
        foreach (var zone in new[] { Rome, LosAngeles, Tokyo, Rome })
        {
            var stats = (await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/stats/weekly?start_date=2026-03-09&end_date=2026-03-15", zone: zone)).AsObject();
            var streak = await RecomputeAsync(user, habit);
            var h = stats["habits"]![0]!;
            seen.Add((zone, [.. h["daily_progress"]!.AsArray().Select(v => (double)v!)], (int)h["days_completed"]!, (int)h["days_scheduled"]!, streak.Current, streak.Longest));
        }

        Assert.All(seen, s =>
        {
            Assert.Equal([1, 1, 1, 1, 1, 1, 1], s.Progress);
            Assert.Equal((7, 7), (s.Completed, s.Scheduled));
            Assert.Equal((7, 7), (s.Current, s.Longest));
        });
    }

    [Fact]
    public async Task With_day_start_03_00_a_completion_at_01_30_counts_on_the_day_before()
    {
        // 01:30 on Wednesday 18 March in Rome (00:30 UTC).
        Factory.Clock.Reset(Local(Rome, "2026-03-18T01:30:00"));
        var user = await CreateUserAsync(Rome);
        await user.Client.SendOkAsync(HttpMethod.Put, "/api/v1/settings", new { day_start = "03:00", version = 1 });
        var habit = Guid.Parse((string)(await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/habits",
            new { title = "Journal", start_date = "2026-03-10T12:00:00Z" }, Rome, status: 201))["id"]!);

        var entry = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/entries",
            new { habit_id = habit, completion_date = "2026-03-18T01:30:00+01:00" }, Rome, status: 201);
        var stats = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/stats/weekly", zone: Rome);

        Assert.Equal("2026-03-17", (string?)entry["local_date"]);
        Assert.Equal("2026-03-17", (string?)stats["end_date"]);
        Assert.Equal(1.0, (double)stats["habits"]![0]!["daily_progress"]!.AsArray()[^1]!);
        Assert.Equal(1, (await RecomputeAsync(user, habit)).Current);

        // An update of completion_date without local_date recomputes it; one with local_date keeps what it says.
        var moved = await user.Client.SendOkAsync(HttpMethod.Put, $"/api/v1/entries/{entry["id"]}",
            new { completion_date = "2026-03-18T04:00:00+01:00", version = 1 }, Rome);
        var pinned = await user.Client.SendOkAsync(HttpMethod.Put, $"/api/v1/entries/{entry["id"]}",
            new { completion_date = "2026-03-18T05:00:00+01:00", local_date = "2026-03-16", version = 2 }, Rome);
        Assert.Equal("2026-03-18", (string?)moved["local_date"]);
        Assert.Equal("2026-03-16", (string?)pinned["local_date"]);
    }

    [Fact]
    public async Task A_skip_keeps_a_daily_streak_alive_and_is_out_of_days_scheduled()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Run", start_date = "2026-03-14T00:00:00Z" });
        foreach (var day in new[] { "14", "15", "17" })
        {
            await user.Client.CreateEntryAsync(habit, $"2026-03-{day}T09:00:00Z");
        }

        var skip = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/entries",
            new { habit_id = habit, completion_date = "2026-03-16T09:00:00Z", kind = "skip", notes = "sick" }, status: 201);
        var stats = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/stats/weekly?start_date=2026-03-14&end_date=2026-03-18");

        Assert.Equal("skip", (string?)skip["kind"]);
        var h = stats["habits"]![0]!;
        Assert.Equal(4, (int)h["days_scheduled"]!);
        Assert.Equal(3, (int)h["days_completed"]!);
        Assert.Equal([1, 1, 0, 1, 0], h["daily_progress"]!.AsArray().Select(v => (double)v!));
        Assert.Equal(new StreakResult(3, 3), await RecomputeAsync(user, habit));
    }

    [Fact]
    public async Task A_week_of_time_off_on_all_habits_keeps_every_streak_and_empties_those_days_from_stats()
    {
        // Wednesday 18 March. The daily habit is done 5-8 and 16-17 March, the weekly one (once a
        // week) on 4 and 17 March; 9-15 March is time off.
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var daily = await db.InsertHabitAsync(user.Id, new TestHabit { StartDate = Instant.FromUtc(2026, 3, 5, 0, 0) },
            [.. new[] { 5, 6, 7, 8, 16, 17 }.Select(d => new TestEntry(Instant.FromUtc(2026, 3, d, 9, 0)))]);
        var weekly = await db.InsertHabitAsync(user.Id, new TestHabit { StartDate = Instant.FromUtc(2026, 3, 2, 0, 0), FrequencyType = "weekly", TimesPerWeek = 1 },
            new TestEntry(Instant.FromUtc(2026, 3, 4, 9, 0)), new TestEntry(Instant.FromUtc(2026, 3, 17, 9, 0)));
        Assert.Equal(new StreakResult(2, 4), await RecomputeAsync(user, daily.Id));
        Assert.Equal(new StreakResult(1, 1), await RecomputeAsync(user, weekly.Id));

        var timeOff = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/time-off",
            new { start_date = "2026-03-09", end_date = "2026-03-15", note = "Flu" }, status: 201);

        // The write queued both habits: the worker brings their streaks up to date.
        await EventuallyAsync(async () => await db.ReadHabitAsync(user.Id, daily.Id) is { StreakDirty: false, CurrentStreak: 6 }
            && await db.ReadHabitAsync(user.Id, weekly.Id) is { StreakDirty: false, CurrentStreak: 2 }, "the time off recomputed both habits");
        Assert.Null(timeOff["habit_ids"]);
        var week = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/stats/weekly?start_date=2026-03-09&end_date=2026-03-15");
        Assert.All(week["habits"]!.AsArray(), h => Assert.Equal((0, 0), ((int)h!["days_scheduled"]!, (int)h["days_completed"]!)));
        Assert.Equal(0.0, (double)week["overall_completion_rate"]!);

        // Deleting it brings the gap back.
        await (await user.Client.SendAsync(HttpMethod.Delete, $"/api/v1/time-off/{timeOff["id"]}")).ShouldBeAsync(204);
        await EventuallyAsync(async () => await db.ReadHabitAsync(user.Id, daily.Id) is { StreakDirty: false, CurrentStreak: 2 }, "the delete recomputed the daily habit");
    }

    [Fact]
    public async Task An_at_most_habit_keeps_its_streak_on_days_within_the_limit_and_breaks_on_the_day_over_it()
    {
        // At most 2 coffees a day from Monday 9 March; 3 on Thursday 12; today (Wednesday 18) already 5, not judged yet.
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Coffee", type = "numeric", goal = "at_most", target_value = 2, start_date = "2026-03-09T00:00:00Z" });
        foreach (var (day, cups) in new[] { (9, 2.0), (12, 3.0), (14, 1.0), (18, 5.0) })
        {
            await user.Client.CreateEntryAsync(habit, $"2026-03-{day:00}T09:00:00Z", cups);
        }

        var week = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/stats/weekly?start_date=2026-03-09&end_date=2026-03-15");
        var thisWeek = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/stats/weekly?start_date=2026-03-16&end_date=2026-03-22");

        Assert.Equal((7, 6), ((int)week["habits"]![0]!["days_scheduled"]!, (int)week["habits"]![0]!["days_completed"]!));
        Assert.Equal((2, 2), ((int)thisWeek["habits"]![0]!["days_scheduled"]!, (int)thisWeek["habits"]![0]!["days_completed"]!));
        Assert.Equal(new StreakResult(5, 5), await RecomputeAsync(user, habit));

        // A day passes: 18 March was over the limit.
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 19, 12, 0));
        Assert.Equal(new StreakResult(0, 5), await RecomputeAsync(user, habit));
    }

    [Fact]
    public async Task At_most_accepts_a_target_of_zero_and_at_least_does_not()
    {
        var user = await CreateUserAsync();

        var none = await user.Client.CreateHabitAsync(new { title = "No smoking", goal = "at_most" });
        var zero = await user.Client.CreateHabitAsync(new { title = "No sugar", type = "numeric", goal = "at_most", target_value = 0 });
        var bad = await user.Client.PostJsonAsync("/api/v1/habits", new { title = "Read", type = "numeric", target_value = 0 });
        var badGoal = await user.Client.PostJsonAsync("/api/v1/habits", new { title = "Read", goal = "sometimes" });

        Assert.Equal(("at_most", 0.0), ((string?)none["goal"], (double)none["target_value"]!));
        Assert.Equal(0.0, (double)zero["target_value"]!);
        await bad.ShouldBeProblemAsync(400);
        Assert.NotNull((await badGoal.ShouldBeProblemAsync(400))["errors"]!["goal"]);
    }

    /// <summary>Marks the habit dirty and recomputes it now (the worker may have done it first), then reads the stored streaks.</summary>
    private async Task<StreakResult> RecomputeAsync(TestUser user, Guid habit)
    {
        await using var db = await Factory.OpenAppDatabaseAsync();
        await db.ExecuteAsync("UPDATE habits SET streak_dirty = true WHERE user_id = @userId AND id = @habit", new { userId = user.Id, habit });
        await Factory.Services.GetRequiredService<StreakRecalculator>().RecomputeHabitAsync(user.Id, habit, CancellationToken.None);
        var stored = await db.ReadHabitAsync(user.Id, habit);
        return new StreakResult(stored.CurrentStreak, stored.LongestStreak);
    }
}
