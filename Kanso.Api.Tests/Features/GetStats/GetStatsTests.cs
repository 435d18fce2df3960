using System.Text.Json.Nodes;
using Kanso.Api.Tests.Infrastructure;
using NodaTime;
using static Kanso.Api.Tests.Infrastructure.TestRows;

namespace Kanso.Api.Tests.Features.GetStats;

public sealed class GetStatsTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Entries_at_23_30_and_00_30_in_rome_count_on_two_days_in_whatever_zone_the_stats_are_read()
    {
        // Written in Rome: two days. Read later in UTC (where both are on 10 January): still two days,
        // since an entry's day is fixed when it is written.
        Factory.Clock.Reset(Instant.FromUtc(2026, 1, 20, 12, 0));
        var user = await CreateUserAsync("Europe/Rome");
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit(),
                new TestEntry(Local("Europe/Rome", "2026-01-10T23:30:00")),
                new TestEntry(Local("Europe/Rome", "2026-01-11T00:30:00")));
        }

        var rome = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-01-09&end_date=2026-01-12", "Europe/Rome");
        var utc = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-01-09&end_date=2026-01-12", "UTC");

        Assert.Equal("Europe/Rome", (string?)rome["timezone"]);
        Assert.Equal([0, 1, 1, 0], Progress(rome));
        Assert.Equal(2, (int)rome["habits"]![0]!["days_completed"]!);
        Assert.Equal("UTC", (string?)utc["timezone"]);
        Assert.Equal([0, 1, 1, 0], Progress(utc));
        Assert.Equal(2, (int)utc["habits"]![0]!["days_completed"]!);
    }

    [Fact]
    public async Task New_york_dst_days_are_one_day_each_with_entries_near_both_ends_counted()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 11, 20, 12, 0));
        var user = await CreateUserAsync("America/New_York");
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { TargetValue = 2 },
                new TestEntry(Local("America/New_York", "2026-03-07T23:59:00")),
                new TestEntry(Local("America/New_York", "2026-03-08T00:00:30")),
                new TestEntry(Local("America/New_York", "2026-03-08T23:59:30")),
                new TestEntry(Local("America/New_York", "2026-03-09T00:01:00")),
                new TestEntry(Local("America/New_York", "2026-10-31T23:59:00")),
                new TestEntry(Local("America/New_York", "2026-11-01T00:00:30")),
                new TestEntry(Local("America/New_York", "2026-11-01T23:59:30")),
                new TestEntry(Local("America/New_York", "2026-11-02T00:01:00")));
        }

        var march = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-07&end_date=2026-03-09");
        var november = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-10-31&end_date=2026-11-02");

        Assert.Equal("America/New_York", (string?)march["timezone"]);
        Assert.Equal([1, 2, 1], Progress(march));
        Assert.Equal(1, (int)march["habits"]![0]!["days_completed"]!);
        Assert.Equal([1, 2, 1], Progress(november));
        Assert.Equal(1, (int)november["habits"]![0]!["days_completed"]!);
    }

    [Fact]
    public async Task Specific_days_rate_counts_only_scheduled_days()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 20, 12, 0));
        var user = await CreateUserAsync();
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { FrequencyType = "specific_days", Weekdays = [1, 3, 5] },
                new TestEntry(Instant.FromUtc(2026, 3, 9, 8, 0)),
                new TestEntry(Instant.FromUtc(2026, 3, 10, 8, 0)),
                new TestEntry(Instant.FromUtc(2026, 3, 11, 8, 0)));
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-09&end_date=2026-03-15");

        var habit = stats["habits"]![0]!;
        Assert.Equal(3, (int)habit["days_scheduled"]!);
        Assert.Equal(2, (int)habit["days_completed"]!);
        Assert.Equal(200.0 / 3, (double)habit["completion_rate"]!, 10);
        Assert.Equal(3, (double)habit["total_value"]!);
        Assert.Equal([1, 1, 1, 0, 0, 0, 0], Progress(stats));
    }

    [Fact]
    public async Task Weekly_habit_schedules_per_week_the_smaller_of_times_per_week_and_its_days_in_the_range_up_to_today()
    {
        // Today is Wednesday 18 March; the range starts on Friday 6 March.
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        int[] doneDays = [6, 7, 9, 10, 11, 12, 13, 17];
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { FrequencyType = "weekly", TimesPerWeek = 4 },
                [.. doneDays.Select(d => new TestEntry(Instant.FromUtc(2026, 3, d, 9, 0)))]);
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-06&end_date=2026-03-22");

        // Weeks: 6-8 March (3 days in range: 3 scheduled, 2 done), 9-15 (4 scheduled, 5 done: 4 count),
        // 16-22 (3 days up to today: 3 scheduled, 1 done).
        var habit = stats["habits"]![0]!;
        Assert.Equal(10, (int)habit["days_scheduled"]!);
        Assert.Equal(7, (int)habit["days_completed"]!);
        Assert.Equal(70, (double)habit["completion_rate"]!, 10);
    }

    [Fact]
    public async Task Days_before_the_first_day_after_the_end_date_or_after_today_are_not_scheduled()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        var ended = new TestHabit { Title = "Ended", SortOrder = 1, StartDate = Instant.FromUtc(2026, 3, 10, 12, 0), EndDate = Instant.FromUtc(2026, 3, 14, 12, 0) };
        var open = new TestHabit { Title = "Open", SortOrder = 2, StartDate = Instant.FromUtc(2026, 3, 1, 12, 0) };
        int[] doneDays = [9, 10, 12, 15, 19];
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, ended, [.. doneDays.Select(d => new TestEntry(Instant.FromUtc(2026, 3, d, 9, 0)))]);
            await db.InsertHabitAsync(user.Id, open, [.. doneDays.Select(d => new TestEntry(Instant.FromUtc(2026, 3, d, 9, 0)))]);
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-08&end_date=2026-03-20");

        var endedStats = stats["habits"]![0]!;
        Assert.Equal("Ended", (string?)endedStats["habit_title"]);
        Assert.Equal(5, (int)endedStats["days_scheduled"]!);
        Assert.Equal(2, (int)endedStats["days_completed"]!);
        Assert.Equal(5, (double)endedStats["total_value"]!);
        var openStats = stats["habits"]![1]!;
        Assert.Equal(11, (int)openStats["days_scheduled"]!);
        Assert.Equal(4, (int)openStats["days_completed"]!);
        Assert.Equal([0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0], Progress(stats, 1));
    }

    [Fact]
    public async Task A_habit_ending_at_the_end_of_year_9999_is_counted_in_a_zone_already_in_year_10000()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        await user.Client.CreateHabitAsync(new { title = "Forever", start_date = "2026-03-16T12:00:00Z", end_date = "9999-12-31T23:59:59.999999Z" });

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-16&end_date=2026-03-18", "Pacific/Kiritimati");

        Assert.Equal(2, (int)stats["habits"]![0]!["days_scheduled"]!);
    }

    [Fact]
    public async Task Interval_habit_schedules_every_nth_day_from_its_first_day()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { FrequencyType = "interval", Interval = 3, StartDate = Instant.FromUtc(2026, 3, 1, 6, 0) },
                new TestEntry(Instant.FromUtc(2026, 3, 10, 9, 0)),
                new TestEntry(Instant.FromUtc(2026, 3, 11, 9, 0)),
                new TestEntry(Instant.FromUtc(2026, 3, 13, 9, 0)));
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-09&end_date=2026-03-15");

        // Scheduled: 1, 4, 7, 10, 13 March ...: in the range 10 and 13.
        var habit = stats["habits"]![0]!;
        Assert.Equal(2, (int)habit["days_scheduled"]!);
        Assert.Equal(2, (int)habit["days_completed"]!);
        Assert.Equal(100, (double)habit["completion_rate"]!);
    }

    [Fact]
    public async Task Numeric_day_is_completed_when_its_summed_live_values_reach_the_target()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { TargetValue = 3, Unit = "km" },
                new TestEntry(Instant.FromUtc(2026, 3, 16, 7, 0), 1),
                new TestEntry(Instant.FromUtc(2026, 3, 16, 19, 0), 2),
                new TestEntry(Instant.FromUtc(2026, 3, 17, 7, 0), 2.5),
                new TestEntry(Instant.FromUtc(2026, 3, 18, 7, 0), 5, Deleted: true));
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-16&end_date=2026-03-18");

        var habit = stats["habits"]![0]!;
        Assert.Equal([3, 2.5, 0], Progress(stats));
        Assert.Equal(5.5, (double)habit["total_value"]!);
        Assert.Equal(3, (double)habit["target_value"]!);
        Assert.Equal("km", (string?)habit["unit"]);
        Assert.Equal(1, (int)habit["days_completed"]!);
        Assert.Equal(3, (int)habit["days_scheduled"]!);
    }

    [Fact]
    public async Task Archived_deleted_and_other_users_habits_are_left_out()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        var other = await CreateUserAsync();
        var kept = new TestHabit { Title = "Kept", Color = "#abc", Icon = "star" };
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, kept);
            await db.InsertHabitAsync(user.Id, new TestHabit { Title = "Archived", ArchivedAt = Instant.FromUtc(2026, 3, 1, 0, 0) });
            await db.InsertHabitAsync(user.Id, new TestHabit { Title = "Deleted", DeletedAt = Instant.FromUtc(2026, 3, 1, 0, 0) });
            await db.InsertHabitAsync(other.Id, new TestHabit { Id = kept.Id, Title = "Someone else's" }, new TestEntry(Instant.FromUtc(2026, 3, 17, 9, 0)));
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly");

        Assert.Equal(1, (int)stats["total_habits"]!);
        var habit = Assert.Single(stats["habits"]!.AsArray())!;
        Assert.Equal(kept.Id, Guid.Parse((string)habit["habit_id"]!));
        Assert.Equal("Kept", (string?)habit["habit_title"]);
        Assert.Equal("#abc", (string?)habit["color"]);
        Assert.Equal("star", (string?)habit["icon"]);
        Assert.Equal(0, (double)habit["total_value"]!);
    }

    [Fact]
    public async Task Defaults_to_the_seven_days_ending_today_in_the_zone_with_the_contract_fields()
    {
        // 23:30 UTC on 18 March is already 19 March in Tokyo, where the entry was made.
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 23, 30));
        var user = await CreateUserAsync("Asia/Tokyo");
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { CurrentStreak = 4, LongestStreak = 9 }, new TestEntry(Instant.FromUtc(2026, 3, 18, 23, 0)));
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly", "Asia/Tokyo");

        Assert.Equal(
            ["start_date", "end_date", "timezone", "total_habits", "overall_completion_rate", "habits"],
            stats.Select(p => p.Key));
        Assert.Equal("2026-03-13", (string?)stats["start_date"]);
        Assert.Equal("2026-03-19", (string?)stats["end_date"]);
        Assert.Equal("Asia/Tokyo", (string?)stats["timezone"]);
        var habit = stats["habits"]![0]!.AsObject();
        Assert.Equal(
            ["habit_id", "habit_title", "color", "icon", "target_value", "unit", "total_value", "days_completed", "days_scheduled",
             "completion_rate", "daily_progress", "current_streak", "longest_streak"],
            habit.Select(p => p.Key));
        Assert.Equal([0, 0, 0, 0, 0, 0, 1], Progress(stats));
        Assert.Equal(7, (int)habit["days_scheduled"]!);
    }

    [Fact]
    public async Task Streaks_come_from_the_habits_row()
    {
        var user = await CreateUserAsync();
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { CurrentStreak = 4, LongestStreak = 9 });
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly");

        Assert.Equal(4, (int)stats["habits"]![0]!["current_streak"]!);
        Assert.Equal(9, (int)stats["habits"]![0]!["longest_streak"]!);
    }

    [Fact]
    public async Task Overall_completion_rate_is_the_ratio_summed_over_all_habits()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { SortOrder = 1 },
                new TestEntry(Instant.FromUtc(2026, 3, 17, 9, 0)));
            await db.InsertHabitAsync(user.Id, new TestHabit { SortOrder = 2, FrequencyType = "specific_days", Weekdays = [0, 1, 2, 3] },
                new TestEntry(Instant.FromUtc(2026, 3, 15, 9, 0)),
                new TestEntry(Instant.FromUtc(2026, 3, 16, 9, 0)),
                new TestEntry(Instant.FromUtc(2026, 3, 17, 9, 0)));
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-15&end_date=2026-03-18");

        // 1 of 4 days, and 3 of 4 scheduled days (Sunday to Wednesday): 4 of 8.
        Assert.Equal(2, (int)stats["total_habits"]!);
        Assert.Equal(25, (double)stats["habits"]![0]!["completion_rate"]!);
        Assert.Equal(75, (double)stats["habits"]![1]!["completion_rate"]!);
        Assert.Equal(50, (double)stats["overall_completion_rate"]!);
    }

    [Fact]
    public async Task Zero_rates_when_nothing_is_scheduled()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { StartDate = Instant.FromUtc(2026, 4, 1, 0, 0) });
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-20&end_date=2026-03-26");

        Assert.Equal(0, (int)stats["habits"]![0]!["days_scheduled"]!);
        Assert.Equal(0, (double)stats["habits"]![0]!["completion_rate"]!);
        Assert.Equal(0, (double)stats["overall_completion_rate"]!);
    }

    [Fact]
    public async Task Range_of_366_days_both_ends_included_is_accepted()
    {
        var user = await CreateUserAsync();
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit());
        }

        var stats = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2025-01-01&end_date=2026-01-01");

        Assert.Equal(366, Progress(stats).Length);
    }

    [Fact]
    public async Task Start_date_alone_ends_today_and_end_date_alone_starts_six_days_earlier()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();

        var startOnly = await GetStatsAsync(user, "/api/v1/stats/weekly?start_date=2026-03-01");
        var endOnly = await GetStatsAsync(user, "/api/v1/stats/weekly?end_date=2026-02-10");

        Assert.Equal("2026-03-18", (string?)startOnly["end_date"]);
        Assert.Equal("2026-02-04", (string?)endOnly["start_date"]);
        Assert.Equal(0, (int)endOnly["total_habits"]!);
        Assert.Empty(endOnly["habits"]!.AsArray());
    }

    [Theory]
    [InlineData("start_date=2026-13-01", "start_date")]
    [InlineData("start_date=2026-02-30", "start_date")]
    [InlineData("end_date=tomorrow", "end_date")]
    [InlineData("end_date=2026-3-1", "end_date")]
    [InlineData("start_date=2026-03-01T00:00:00Z", "start_date")]
    [InlineData("start_date=2026-03-10&end_date=2026-03-09", "start_date")]
    [InlineData("start_date=2024-12-31&end_date=2026-01-01", "end_date")]
    [InlineData("start_date=2026-03-19", "start_date")]
    [InlineData("end_date=9999-12-31", "end_date")]
    public async Task Bad_request_for_bad_dates_or_ranges(string query, string field)
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 3, 18, 12, 0));
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync($"/api/v1/stats/weekly?{query}");

        var problem = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task Bad_request_for_an_unknown_zone()
    {
        var user = await CreateUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/stats/weekly");
        request.Headers.Add("X-Timezone", "Mars/Olympus_Mons");

        var response = await user.Client.SendAsync(request);

        await response.ShouldBeProblemAsync(400, "invalid timezone");
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().GetAsync("/api/v1/stats/weekly");

        await response.ShouldBeProblemAsync(401);
    }

    private static async Task<JsonObject> GetStatsAsync(TestUser user, string url, string? zone = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (zone is not null)
        {
            request.Headers.Add("X-Timezone", zone);
        }

        var response = await user.Client.SendAsync(request);
        return (await response.ShouldBeAsync(200)).AsObject();
    }

    private static double[] Progress(JsonObject stats, int habit = 0) =>
        [.. stats["habits"]![habit]!["daily_progress"]!.AsArray().Select(v => (double)v!)];
}
