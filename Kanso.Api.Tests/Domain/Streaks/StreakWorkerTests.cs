using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NodaTime;
using Npgsql;
using static Kanso.Api.Tests.Infrastructure.TestRows;

namespace Kanso.Api.Tests.Domain.Streaks;

public sealed class StreakWorkerTests(ApiFixture fixture) : ApiTest(fixture)
{
    private static readonly Instant Noon = Instant.FromUtc(2026, 3, 18, 12, 0);

    // Hosts that only sweep at start-up, so a test decides when the rest happens.
    private static readonly Dictionary<string, string?> NoPeriodicSweep = new() { ["Streaks:SweepInterval"] = "1.00:00:00" };

    /// <summary>Completed on each of the given days before 18 March 2026 (UTC), at 09:00.</summary>
    private static TestEntry[] DoneDaysAgo(params int[] days) =>
        [.. days.Select(d => new TestEntry(Instant.FromUtc(2026, 3, 18, 9, 0).Minus(Duration.FromDays(d))))];

    [Fact]
    public async Task Streak_change_reaches_pull_with_the_version_unchanged()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var cursor = (string)(await user.Client.PullAsync(cursor: null))["cursor"]!;
        await user.Client.CreateEntryIdAsync(habit, Kanso.Api.Infrastructure.Json.WireFormat.Format(Factory.Clock.GetCurrentInstant()));
        await using var db = await Factory.OpenAppDatabaseAsync();
        await EventuallyAsync(async () => (await db.ReadHabitAsync(user.Id, habit)) is { StreakDirty: false, CurrentStreak: 1 }, "the entry's streak job has run");

        var delta = await user.Client.PullAsync(cursor);

        var pulled = Assert.Single((JsonArray)delta["habits"]!, h => (string?)h!["id"] == habit.ToString())!;
        Assert.Equal((1, 1, 1), ((int)pulled["current_streak"]!, (int)pulled["longest_streak"]!, (int)pulled["version"]!));
    }

    [Fact]
    public async Task Queued_job_stores_streaks_under_a_new_change_number_and_leaves_version_as_it_was()
    {
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit { Version = 3, StreakDirty = true }, DoneDaysAgo(1, 2, 3, 5));
        var before = await db.ReadHabitAsync(user.Id, habit.Id);

        Assert.True(Factory.Services.GetRequiredService<StreakQueue>().TryEnqueue(user.Id, habit.Id));

        await EventuallyAsync(async () => !(await db.ReadHabitAsync(user.Id, habit.Id)).StreakDirty, "the job has run");
        var after = await db.ReadHabitAsync(user.Id, habit.Id);
        Assert.Equal(3, after.CurrentStreak);
        Assert.Equal(3, after.LongestStreak);
        Assert.Equal(3, after.Version);
        Assert.True(after.ChangeSeq > before.ChangeSeq);
        Assert.Equal(await db.ReadUserChangeSeqAsync(user.Id), after.ChangeSeq);
        Assert.True(after.UpdatedAt > before.UpdatedAt, "updated_at moves for the timestamp-cursor sync");
        Assert.Equal(Instant.FromUtc(2026, 3, 19, 0, 0), after.StreakDueAt);
    }

    [Fact]
    public async Task A_user_whose_lock_is_held_does_not_hold_up_the_other_users_of_the_batch()
    {
        await using var host = Fixture.CreateFactory(new Dictionary<string, string?>(NoPeriodicSweep) { ["Streaks:Concurrency"] = "2" });
        var held = await CreateUserAsync();
        var free = await CreateUserAsync();
        await using var db = await host.OpenAppDatabaseAsync();
        var heldHabit = await db.InsertHabitAsync(held.Id, new TestHabit { StreakDirty = true }, DoneDaysAgo(1, 2));
        var freeHabit = await db.InsertHabitAsync(free.Id, new TestHabit { StreakDirty = true }, DoneDaysAgo(1, 2));
        var recalculator = Recalculator(host);
        var before = recalculator.JobTransactions;

        // Another transaction holds the first user's lock; both users' jobs are queued in that order.
        await using var other = await OpenDatabaseAsync();
        await using var lockHolder = await other.BeginTransactionAsync();
        await other.ExecuteAsync("SELECT 1 FROM users WHERE id = @id FOR UPDATE", new { id = held.Id }, lockHolder);
        var queue = host.Services.GetRequiredService<StreakQueue>();
        Assert.True(queue.TryEnqueue(held.Id, heldHabit.Id));
        Assert.True(queue.TryEnqueue(free.Id, freeHabit.Id));

        // One job at a time, the second would wait behind the first (sweeps do not count here).
        await EventuallyAsync(() => Task.FromResult(recalculator.JobTransactions == before + 2), "the second user's job started while the first waits");
        await EventuallyAsync(async () => !(await db.ReadHabitAsync(free.Id, freeHabit.Id)).StreakDirty, "the second user's habit is recomputed");
        Assert.True((await db.ReadHabitAsync(held.Id, heldHabit.Id)).StreakDirty);

        await lockHolder.RollbackAsync();
        await EventuallyAsync(async () => !(await db.ReadHabitAsync(held.Id, heldHabit.Id)).StreakDirty, "the first user's habit once the lock is free");
    }

    [Fact]
    public async Task A_job_that_did_not_fit_the_queue_is_swept_once_the_queue_is_empty_not_at_the_next_interval()
    {
        // Room for one job, and no sweep after the start-up one but those the worker asks for.
        await using var host = Fixture.CreateFactory(new Dictionary<string, string?>(NoPeriodicSweep) { ["Streaks:QueueCapacity"] = "1" });
        host.Clock.Reset(Noon);
        var recalculator = Recalculator(host);
        await EventuallyAsync(() => Task.FromResult(recalculator.Sweeps == 1), "the start-up sweep has ended");
        var held = await CreateUserAsync();
        var writer = await CreateUserAsync();
        await using var db = await host.OpenAppDatabaseAsync();
        var heldHabit = await db.InsertHabitAsync(held.Id, new TestHabit { StreakDirty = true }, DoneDaysAgo(1, 2));
        var queued = await db.InsertHabitAsync(writer.Id, new TestHabit { StreakDirty = true }, DoneDaysAgo(1, 2));
        var dropped = await db.InsertHabitAsync(writer.Id, new TestHabit { StreakDirty = true }, DoneDaysAgo(1));

        // The worker waits for a lock another transaction holds, so the queue fills up behind it.
        await using var other = await OpenDatabaseAsync();
        await using var lockHolder = await other.BeginTransactionAsync();
        await other.ExecuteAsync("SELECT 1 FROM users WHERE id = @id FOR UPDATE", new { id = held.Id }, lockHolder);
        var queue = host.Services.GetRequiredService<StreakQueue>();
        var before = recalculator.JobTransactions;
        Assert.True(queue.TryEnqueue(held.Id, heldHabit.Id));
        await EventuallyAsync(() => Task.FromResult(recalculator.JobTransactions == before + 1), "the worker has taken the job and waits for the lock");
        Assert.True(queue.TryEnqueue(writer.Id, queued.Id));
        Assert.False(queue.TryEnqueue(writer.Id, dropped.Id));
        Assert.Equal(1, recalculator.Sweeps);

        await lockHolder.RollbackAsync();
        await EventuallyAsync(() => Task.FromResult(recalculator.Sweeps == 2), "the worker swept once it had emptied the queue");
        Assert.False((await db.ReadHabitAsync(writer.Id, dropped.Id)).StreakDirty);
        Assert.False((await db.ReadHabitAsync(writer.Id, queued.Id)).StreakDirty);
        Assert.False((await db.ReadHabitAsync(held.Id, heldHabit.Id)).StreakDirty);
        Assert.Equal(1, (await db.ReadHabitAsync(writer.Id, dropped.Id)).CurrentStreak);
    }

    [Fact]
    public async Task Recompute_that_changes_nothing_takes_no_change_number()
    {
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit { CurrentStreak = 2, LongestStreak = 2, StreakDirty = true }, DoneDaysAgo(1, 2));
        var before = await db.ReadHabitAsync(user.Id, habit.Id);

        await Recalculator(Factory).RecomputeHabitAsync(user.Id, habit.Id, CancellationToken.None);

        var after = await db.ReadHabitAsync(user.Id, habit.Id);
        Assert.False(after.StreakDirty);
        Assert.Equal(before.ChangeSeq, after.ChangeSeq);
        Assert.Equal(before.ChangeSeq, await db.ReadUserChangeSeqAsync(user.Id));
    }

    [Fact]
    public async Task Job_for_a_habit_that_is_no_longer_dirty_is_skipped()
    {
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit(), DoneDaysAgo(1, 2));

        await Recalculator(Factory).RecomputeHabitAsync(user.Id, habit.Id, CancellationToken.None);

        var after = await db.ReadHabitAsync(user.Id, habit.Id);
        Assert.Equal(0, after.CurrentStreak);
        Assert.Null(after.StreakDueAt);
    }

    [Fact]
    public async Task Missed_yesterday_shows_current_zero_after_local_midnight_without_any_write()
    {
        // 12:00 UTC on 18 March is 05:00 in Los Angeles; 15-17 March are done, 18 March is not (yet).
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync("America/Los_Angeles");
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true },
            [.. new[] { 15, 16, 17 }.Select(d => new TestEntry(Local("America/Los_Angeles", $"2026-03-{d}T20:00:00")))]);
        await Recalculator(Factory).RecomputeHabitAsync(user.Id, habit.Id, CancellationToken.None);
        var computed = await db.ReadHabitAsync(user.Id, habit.Id);

        Factory.Clock.Reset(Local("America/Los_Angeles", "2026-03-18T23:59:00"));
        await Recalculator(Factory).SweepAsync(100, CancellationToken.None);
        var beforeMidnight = await db.ReadHabitAsync(user.Id, habit.Id);
        Factory.Clock.Reset(Local("America/Los_Angeles", "2026-03-19T00:01:00"));
        await Recalculator(Factory).SweepAsync(100, CancellationToken.None);
        var afterMidnight = await db.ReadHabitAsync(user.Id, habit.Id);
        var stats = await (await user.Client.GetAsync("/api/v1/stats/weekly")).ShouldBeAsync(200);

        Assert.Equal(3, computed.CurrentStreak);
        Assert.Equal(Local("America/Los_Angeles", "2026-03-19T00:00:00"), computed.StreakDueAt);
        Assert.Equal(3, beforeMidnight.CurrentStreak);
        Assert.Equal(computed.ChangeSeq, beforeMidnight.ChangeSeq);
        Assert.Equal(0, afterMidnight.CurrentStreak);
        Assert.Equal(3, afterMidnight.LongestStreak);
        Assert.True(afterMidnight.ChangeSeq > computed.ChangeSeq);
        Assert.Equal(computed.Version, afterMidnight.Version);
        Assert.Null(afterMidnight.StreakDueAt);
        Assert.Equal(0, (int)stats["habits"]![0]!["current_streak"]!);
        Assert.Equal(3, (int)stats["habits"]![0]!["longest_streak"]!);
    }

    [Fact]
    public async Task Streaks_of_every_frequency_are_stored_from_live_entries()
    {
        // Wednesday 18 March 2026.
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var daily = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true, TargetValue = 2 },
            [.. DoneDaysAgo(0, 0, 1, 1, 2, 3, 3), new TestEntry(Instant.FromUtc(2026, 3, 16, 9, 0), 5, Deleted: true)]);
        var specific = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true, FrequencyType = "specific_days", Weekdays = [1, 5] },
            DoneDaysAgo(2, 5, 9));
        var interval = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true, FrequencyType = "interval", Interval = 2, StartDate = Instant.FromUtc(2026, 3, 10, 8, 0) },
            DoneDaysAgo(2, 4, 6, 8));
        var weekly = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true, FrequencyType = "weekly", TimesPerWeek = 2 },
            DoneDaysAgo(0, 3, 4, 10, 11, 17));

        await Recalculator(Factory).SweepAsync(100, CancellationToken.None);

        // daily: 18 and 17 reach 2; 16 has 1 (its deleted 5 does not count); 15 reaches 2.
        Assert.Equal((2, 2), await StreaksAsync(db, user.Id, daily.Id));
        // Mondays and Fridays: Mon 16, Fri 13, Mon 9 done; Fri 6 missed.
        Assert.Equal((3, 3), await StreaksAsync(db, user.Id, specific.Id));
        // Every other day from 10 March: 10, 12, 14, 16 done; today (18) not yet.
        Assert.Equal((4, 4), await StreaksAsync(db, user.Id, interval.Id));
        // Weeks of 9 March (14, 15) and 2 March (7, 8) done; 23 Feb has one; this week not yet.
        Assert.Equal((2, 2), await StreaksAsync(db, user.Id, weekly.Id));
    }

    [Fact]
    public async Task New_zone_recomputes_today_in_that_zone_and_keeps_the_days_of_past_entries()
    {
        // Entries made in UTC on 15-17 March keep those days. 12:00 UTC on 18 March is already
        // 02:00 on 19 March in Kiritimati, where 18 March is then missed.
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true },
            [.. new[] { 15, 16, 17 }.Select(d => new TestEntry(Instant.FromUtc(2026, 3, d, 5, 0)))]);
        await Recalculator(Factory).SweepAsync(100, CancellationToken.None);
        var inUtc = await db.ReadHabitAsync(user.Id, habit.Id);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/stats/weekly");
        request.Headers.Add("X-Timezone", "Pacific/Kiritimati");
        await (await user.Client.SendAsync(request)).ShouldBeAsync(200);
        await Recalculator(Factory).SweepAsync(100, CancellationToken.None);
        var inKiritimati = await db.ReadHabitAsync(user.Id, habit.Id);

        Assert.Equal(3, inUtc.CurrentStreak);
        Assert.Equal(0, inKiritimati.CurrentStreak);
        Assert.Equal(3, inKiritimati.LongestStreak);
        Assert.False(inKiritimati.StreakDirty);
    }

    [Fact]
    public async Task Stopping_the_host_finishes_every_queued_job()
    {
        Factory.Clock.Reset(Noon);
        var factory = Fixture.CreateFactory(NoPeriodicSweep);
        factory.Clock.Reset(Noon);
        _ = factory.Server;
        var habits = new List<(Guid User, Guid Habit)>();
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            for (var u = 0; u < 20; u++)
            {
                var user = await CreateUserAsync();
                for (var h = 0; h < 10; h++)
                {
                    var habit = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true }, DoneDaysAgo(0, 1, 2, 4));
                    habits.Add((user.Id, habit.Id));
                }
            }
        }

        var queue = factory.Services.GetRequiredService<StreakQueue>();
        Assert.All(habits, h => Assert.True(queue.TryEnqueue(h.User, h.Habit)));
        await factory.DisposeAsync();

        Assert.Equal(0, queue.Reader.Count);
        Assert.True(queue.Reader.Completion.IsCompleted);
        await using var check = await Factory.OpenAppDatabaseAsync();
        var rows = (await check.QueryAsync<(bool Dirty, int Current)>(
            "SELECT streak_dirty, current_streak FROM habits WHERE id = ANY(@ids)", new { ids = habits.Select(h => h.Habit).ToArray() })).ToList();
        Assert.Equal(habits.Count, rows.Count);
        Assert.All(rows, r => Assert.Equal((false, 3), r));
    }

    [Fact]
    public async Task Fresh_host_recomputes_dirty_rows_left_by_a_crashed_one()
    {
        // Entry writes committed and marked their habits dirty, then the instance died with the jobs in memory.
        // On a database of its own: the shared host's periodic sweep would clean the rows too, and hide a broken recovery.
        var database = await Fixture.CreateIsolatedDatabaseAsync();
        var userId = Guid.NewGuid();
        var habits = new List<Guid>();
        await using (var migrate = new KansoApiFactory(database, redis: null, NoPeriodicSweep))
        {
            _ = migrate.Server; // migrates the new database, and is gone before the dirty rows exist
        }

        var source = new NpgsqlDataSourceBuilder(database);
        source.UseNodaTime();
        await using (var data = source.Build())
        await using (var db = await data.OpenConnectionAsync())
        {
            await db.ExecuteAsync("INSERT INTO users (id, email, timezone) VALUES (@userId, @email, 'UTC')", new { userId, email = $"{userId:N}@example.com" });
            for (var i = 0; i < 5; i++)
            {
                habits.Add((await db.InsertHabitAsync(userId, new TestHabit { StreakDirty = true }, DoneDaysAgo([.. Enumerable.Range(1, i + 1)]))).Id);
            }
        }

        await using var fresh = new KansoApiFactory(database, redis: null, NoPeriodicSweep);
        fresh.Clock.Reset(Noon);
        _ = fresh.Server;

        await using var check = await fresh.OpenAppDatabaseAsync();
        var user = new { Id = userId };
        await EventuallyAsync(
            async () => await check.ExecuteScalarAsync<long>("SELECT count(*) FROM habits WHERE streak_dirty") == 0,
            "the fresh host's start-up sweep has recomputed every dirty habit");
        for (var i = 0; i < habits.Count; i++)
        {
            Assert.Equal((i + 1, i + 1), await StreaksAsync(check, user.Id, habits[i]));
        }
    }

    [Fact]
    public async Task Hosts_sweeping_together_several_users_at_a_time_recompute_each_dirty_habit_once()
    {
        Factory.Clock.Reset(Noon);
        var mainBefore = Recalculator(Factory).Recomputed;
        await using var a = Fixture.CreateFactory(NoPeriodicSweep);
        await using var b = Fixture.CreateFactory(NoPeriodicSweep);
        a.Clock.Reset(Noon);
        b.Clock.Reset(Noon);
        _ = a.Server;
        _ = b.Server;
        var count = 0;
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            for (var u = 0; u < 30; u++)
            {
                var user = await CreateUserAsync();
                for (var h = 0; h < 3; h++, count++)
                {
                    await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true }, DoneDaysAgo(1, 2));
                }
            }
        }

        var (main, first, second) = (Recalculator(Factory), Recalculator(a), Recalculator(b));

        await Task.WhenAll(Task.Run(() => first.SweepAsync(7, CancellationToken.None, concurrency: 3)), Task.Run(() => second.SweepAsync(7, CancellationToken.None, concurrency: 3)));

        // Every recompute by any host (start-up sweeps and the shared host's periodic one included).
        Assert.Equal(count, main.Recomputed - mainBefore + first.Recomputed + second.Recomputed);
        await using var check = await Factory.OpenAppDatabaseAsync();
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT count(*) FROM habits WHERE streak_dirty"));
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT count(*) FROM habits WHERE current_streak <> 2"));
    }

    [Fact]
    public async Task Deleted_habit_is_cleaned_without_a_change_number()
    {
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true, DeletedAt = Noon }, DoneDaysAgo(1, 2));
        var before = await db.ReadHabitAsync(user.Id, habit.Id);

        await Recalculator(Factory).RecomputeHabitAsync(user.Id, habit.Id, CancellationToken.None);

        var after = await db.ReadHabitAsync(user.Id, habit.Id);
        Assert.False(after.StreakDirty);
        Assert.Equal(before.ChangeSeq, after.ChangeSeq);
        Assert.Null(after.StreakDueAt);
    }

    [Fact]
    public async Task Future_dated_entry_counts_once_its_day_comes_without_any_write()
    {
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true }, DoneDaysAgo(-1));
        await Recalculator(Factory).RecomputeHabitAsync(user.Id, habit.Id, CancellationToken.None);
        var today = await db.ReadHabitAsync(user.Id, habit.Id);

        Factory.Clock.Reset(Noon + Duration.FromDays(1));
        await Recalculator(Factory).SweepAsync(100, CancellationToken.None);

        var tomorrow = await db.ReadHabitAsync(user.Id, habit.Id);
        Assert.Equal((0, 0), (today.CurrentStreak, today.LongestStreak));
        Assert.Equal(Instant.FromUtc(2026, 3, 19, 0, 0), today.StreakDueAt);
        Assert.Equal((1, 1), (tomorrow.CurrentStreak, tomorrow.LongestStreak));
    }

    [Fact]
    public async Task An_entry_at_the_end_of_year_9999_counts_on_the_last_date_instead_of_failing_the_users_recompute()
    {
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync("Pacific/Kiritimati");
        await using var db = await Factory.OpenAppDatabaseAsync();
        var lastSecond = Instant.FromUtc(9999, 12, 31, 23, 59, 59);
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true, EndDate = lastSecond }, [.. DoneDaysAgo(0, 1), new TestEntry(lastSecond)]);

        await Recalculator(Factory).RecomputeHabitAsync(user.Id, habit.Id, CancellationToken.None);

        var after = await db.ReadHabitAsync(user.Id, habit.Id);
        Assert.False(after.StreakDirty);
        Assert.Equal((2, 2), (after.CurrentStreak, after.LongestStreak));
    }

    [Fact]
    public async Task Ended_habit_is_not_due_again()
    {
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(user.Id, new TestHabit { StreakDirty = true, EndDate = Instant.FromUtc(2026, 3, 16, 12, 0) }, DoneDaysAgo(2, 3));

        await Recalculator(Factory).RecomputeHabitAsync(user.Id, habit.Id, CancellationToken.None);

        var after = await db.ReadHabitAsync(user.Id, habit.Id);
        Assert.Equal(2, after.CurrentStreak);
        Assert.Null(after.StreakDueAt);
    }

    [Fact]
    public void Web_server_stops_before_the_streak_worker_so_the_drain_follows_the_last_request()
    {
        // The host stops hosted services in reverse order of registration.
        var order = Factory.Services.GetServices<IHostedService>().Select(s => s.GetType().Name).ToList();

        Assert.True(order.IndexOf(nameof(StreakWorker)) < order.IndexOf("GenericWebHostService"), string.Join(", ", order));
        Assert.True(order.IndexOf("MigrationService") < order.IndexOf(nameof(StreakWorker)), string.Join(", ", order));
    }

    [Fact]
    public async Task Sigterm_stops_the_api_process_with_exit_code_0()
    {
        var port = Shell.FreePort();
        using var process = StartApiProcess(port);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await EventuallyAsync(async () =>
            {
                try
                {
                    return (await http.GetAsync("/health")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, "the API answers /health", TimeSpan.FromSeconds(60));

            await Shell.RunAsync("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(cts.Token);
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stdout}{await stderr}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Theory]
    [InlineData("Streaks__SweepInterval", "00:00:00")]
    [InlineData("Streaks__QueueCapacity", "0")]
    public async Task Setting_out_of_range_stops_start_up_naming_the_setting(string setting, string value)
    {
        using var process = StartApiProcess(Shell.FreePort(), (setting, value));
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains(setting, await stderr);
    }

    private Process StartApiProcess(int port, params (string Key, string Value)[] settings)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{port}");
        psi.Environment["ConnectionStrings__Postgres"] = Fixture.ConnectionString;
        psi.Environment["Jwt__SigningKey"] = KansoApiFactory.SigningKey;
        psi.Environment["Redis__Configuration"] = "";
        foreach (var (key, value) in settings)
        {
            psi.Environment[key] = value;
        }

        return Process.Start(psi)!;
    }

    private static StreakRecalculator Recalculator(KansoApiFactory factory) => factory.Services.GetRequiredService<StreakRecalculator>();

    private static async Task<(int Current, int Longest)> StreaksAsync(NpgsqlConnection db, Guid userId, Guid habitId)
    {
        var habit = await db.ReadHabitAsync(userId, habitId);
        return (habit.CurrentStreak, habit.LongestStreak);
    }
}
