using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Text;
using Xunit.Abstractions;
using static Kanso.Api.Tests.Infrastructure.TestRows;

namespace Kanso.Api.Tests.Domain.Streaks;

/// <summary>The incremental recompute and the coalescing of queued jobs, on the real database.</summary>
public sealed class StreakCheckpointTests(ApiFixture fixture, ITestOutputHelper output) : ApiTest(fixture)
{
    private static readonly Instant Noon = Instant.FromUtc(2026, 3, 18, 12, 0);

    [Fact]
    public async Task A_recent_write_reads_the_entries_from_the_checkpoint_on_and_an_old_one_the_whole_history()
    {
        Factory.Clock.Reset(Noon);
        var today = new LocalDate(2026, 3, 18);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();

        // 200 entries over the year before today, on the days a fixed pattern picks.
        var random = new Random(18);
        var days = Enumerable.Range(1, 365).OrderBy(_ => random.Next()).Take(200).Order().ToArray();
        var habit = await db.InsertHabitAsync(
            user.Id,
            new TestHabit { StartDate = Instant.FromUtc(2025, 3, 18, 0, 0), StreakDirty = true },
            [.. days.Select(d => new TestEntry(Instant.FromUtc(2026, 3, 18, 9, 0).Minus(Duration.FromDays(d))))]);

        var recomputes = new ConcurrentQueue<(int Rows, LocalDate? From)>();
        var recalculator = Factory.Services.GetRequiredService<StreakRecalculator>();
        recalculator.RecomputedHook = (id, rows, from) =>
        {
            if (id == habit.Id)
            {
                recomputes.Enqueue((rows, from));
            }
        };
        try
        {
            // No checkpoint yet: the whole history, once.
            var first = await RecomputedAsync(db, user.Id, habit.Id, recomputes, () => Factory.Services.GetRequiredService<StreakQueue>().TryEnqueue(user.Id, habit.Id));
            Assert.Equal((200, (LocalDate?)null), first);
            var checkpoint = await CheckpointDateAsync(db, user.Id, habit.Id);
            Assert.Equal(HabitSchedule.WeekOf(today.PlusDays(-14)), checkpoint);

            // Today's entry: only the entries from the checkpoint on.
            var recent = await RecomputedAsync(db, user.Id, habit.Id, recomputes, () => user.Client.CreateEntryIdAsync(habit.Id, "2026-03-18T10:00:00Z"));
            var fromCheckpoint = await db.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM habit_entries WHERE user_id = @userId AND habit_id = @habitId AND deleted_at IS NULL AND local_date >= @checkpoint",
                new { userId = user.Id, habitId = habit.Id, checkpoint });
            Assert.Equal((fromCheckpoint, (LocalDate?)checkpoint), recent);
            Assert.True(recent.Rows < 25, $"{recent.Rows} rows");
            output.WriteLine($"a write on today to a habit with 201 live entries read {recent.Rows} entry rows (before: 201)");

            // An entry 200 days back: before the checkpoint, so the whole history again.
            var old = await RecomputedAsync(db, user.Id, habit.Id, recomputes, () => user.Client.CreateEntryIdAsync(habit.Id, "2025-08-30T10:00:00Z"));
            Assert.Equal((202, (LocalDate?)null), old);

            // An old entry moved to today changes its old day too: the whole history.
            var oldest = await db.QuerySingleAsync<Guid>(
                "SELECT id FROM habit_entries WHERE user_id = @userId AND habit_id = @habitId ORDER BY local_date LIMIT 1", new { userId = user.Id, habitId = habit.Id });
            var moved = await RecomputedAsync(db, user.Id, habit.Id, recomputes, async () =>
                await (await user.Client.PutAsJsonAsync($"/api/v1/entries/{oldest}", new { version = 1, completion_date = "2026-03-17T10:00:00Z" })).ShouldBeAsync(200));
            Assert.Null(moved.From);

            // A recent entry deleted: from the checkpoint again.
            var recentEntry = await db.QuerySingleAsync<Guid>(
                "SELECT id FROM habit_entries WHERE user_id = @userId AND habit_id = @habitId AND local_date = '2026-03-18' LIMIT 1", new { userId = user.Id, habitId = habit.Id });
            var deleted = await RecomputedAsync(db, user.Id, habit.Id, recomputes, async () =>
                await (await user.Client.DeleteAsync($"/api/v1/entries/{recentEntry}")).ShouldBeAsync(204));
            Assert.Equal(checkpoint, deleted.From);

            // What is stored equals a full recompute of the same rows.
            var incremental = await db.ReadHabitAsync(user.Id, habit.Id);
            var full = await RecomputedAsync(db, user.Id, habit.Id, recomputes, () => db.ExecuteAsync(
                "UPDATE habits SET streak_checkpoint = NULL, streak_dirty = true WHERE user_id = @userId AND id = @habitId", new { userId = user.Id, habitId = habit.Id }),
                direct: recalculator);
            Assert.Null(full.From);
            var again = await db.ReadHabitAsync(user.Id, habit.Id);
            Assert.Equal((incremental.CurrentStreak, incremental.LongestStreak), (again.CurrentStreak, again.LongestStreak));
            Assert.True(again.LongestStreak > 1);
        }
        finally
        {
            recalculator.RecomputedHook = null;
        }
    }

    [Fact]
    public async Task A_schedule_change_or_time_off_before_the_checkpoint_walks_the_whole_history()
    {
        Factory.Clock.Reset(Noon);
        var user = await CreateUserAsync();
        await using var db = await Factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(
            user.Id,
            new TestHabit { StartDate = Instant.FromUtc(2025, 12, 1, 0, 0), StreakDirty = true },
            [.. Enumerable.Range(0, 100).Select(d => new TestEntry(Instant.FromUtc(2026, 3, 18, 9, 0).Minus(Duration.FromDays(d))))]);
        var recomputes = new ConcurrentQueue<(int Rows, LocalDate? From)>();
        var recalculator = Factory.Services.GetRequiredService<StreakRecalculator>();
        recalculator.RecomputedHook = (id, rows, from) =>
        {
            if (id == habit.Id)
            {
                recomputes.Enqueue((rows, from));
            }
        };
        try
        {
            var queue = Factory.Services.GetRequiredService<StreakQueue>();
            Assert.Null((await RecomputedAsync(db, user.Id, habit.Id, recomputes, () => queue.TryEnqueue(user.Id, habit.Id))).From);
            Assert.Equal((100, 100), await StreaksAsync(db, user.Id, habit.Id));

            // Time off in February: the days before the checkpoint are not what they were.
            var timeOff = await RecomputedAsync(db, user.Id, habit.Id, recomputes, async () =>
                await (await user.Client.PostAsJsonAsync("/api/v1/time-off", new { start_date = "2026-02-02", end_date = "2026-02-04" })).ShouldBeAsync(201));
            Assert.Null(timeOff.From);
            Assert.Equal((97, 97), await StreaksAsync(db, user.Id, habit.Id));

            // A target of 2: no day is completed any more.
            var target = await RecomputedAsync(db, user.Id, habit.Id, recomputes, async () =>
                await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{habit.Id}", new { version = 1, type = "numeric", target_value = 2 })).ShouldBeAsync(200));
            Assert.Null(target.From);
            Assert.Equal((0, 0), await StreaksAsync(db, user.Id, habit.Id));
        }
        finally
        {
            recalculator.RecomputedHook = null;
        }
    }

    [Fact]
    public async Task A_burst_of_jobs_for_one_habit_takes_at_most_two_transactions()
    {
        Factory.Clock.Reset(Noon);
        await using var factory = Fixture.CreateFactory(new Dictionary<string, string?> { ["Streaks:SweepInterval"] = "1.00:00:00" });
        factory.Clock.Reset(Noon);
        _ = factory.Server;
        var user = await CreateUserAsync();
        await using var db = await factory.OpenAppDatabaseAsync();
        var habit = await db.InsertHabitAsync(
            user.Id, new TestHabit { StreakDirty = true },
            [.. Enumerable.Range(0, 10).Select(d => new TestEntry(Instant.FromUtc(2026, 3, 18, 9, 0).Minus(Duration.FromDays(d))))]);
        var recalculator = factory.Services.GetRequiredService<StreakRecalculator>();
        var queue = factory.Services.GetRequiredService<StreakQueue>();
        var before = recalculator.JobTransactions;

        // The ten writes' jobs arrive while the worker waits for the user (held here), as they
        // would behind a slow recompute: it takes at most the first ones before it blocks.
        await using (var holder = await factory.OpenAppDatabaseAsync())
        await using (var tx = await holder.BeginTransactionAsync())
        {
            await holder.ExecuteAsync("SELECT 1 FROM users WHERE id = @id FOR UPDATE", new { id = user.Id }, tx);
            for (var i = 0; i < 10; i++)
            {
                Assert.True(queue.TryEnqueue(user.Id, habit.Id));
            }

            await tx.CommitAsync();
        }

        await EventuallyAsync(async () => queue.Reader.Count == 0 && !(await db.ReadHabitAsync(user.Id, habit.Id)).StreakDirty, "the jobs have run");
        await EventuallyAsync(() => Task.FromResult(recalculator.JobTransactions > before), "the worker's transaction has ended");
        var transactions = recalculator.JobTransactions - before;
        output.WriteLine($"10 queued jobs for one habit: {transactions} recompute transaction(s) (before: 10)");
        Assert.InRange(transactions, 1, 2);
        Assert.Equal((10, 10), await StreaksAsync(db, user.Id, habit.Id));
    }

    [Fact]
    public void A_batch_takes_one_recompute_per_user_of_the_distinct_habits_queued()
    {
        var channel = System.Threading.Channels.Channel.CreateUnbounded<StreakJob>();
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), h1 = Guid.NewGuid(), h2 = Guid.NewGuid(), h3 = Guid.NewGuid();
        foreach (var job in new[] { (a, h1), (b, h3), (a, h1), (a, h2), (a, h1), (b, h3) })
        {
            channel.Writer.TryWrite(new StreakJob(job.Item1, job.Item2));
        }

        var batch = Kanso.Api.Domain.Streaks.StreakWorker.TakeBatch(channel.Reader, 5);

        Assert.Equal(2, batch.Count);
        Assert.Equal((a, 4), (batch[0].UserId, batch[0].Jobs));
        Assert.Equal([h1, h2], batch[0].HabitIds);
        Assert.Equal((b, 1), (batch[1].UserId, batch[1].Jobs));
        Assert.Equal([h3], batch[1].HabitIds);
        Assert.Equal(1, channel.Reader.Count);
    }

    /// <summary>Runs <paramref name="write"/>, then waits for the recompute of the habit it causes (through the worker, or <paramref name="direct"/>).</summary>
    private static async Task<(int Rows, LocalDate? From)> RecomputedAsync(
        Npgsql.NpgsqlConnection db, Guid userId, Guid habitId, ConcurrentQueue<(int Rows, LocalDate? From)> recomputes, Func<Task> write, StreakRecalculator? direct = null)
    {
        recomputes.Clear();
        await write();
        if (direct is not null)
        {
            await direct.RecomputeHabitAsync(userId, habitId, CancellationToken.None);
        }

        await EventuallyAsync(async () => !recomputes.IsEmpty && !(await db.ReadHabitAsync(userId, habitId)).StreakDirty, "the habit has been recomputed");
        Assert.Single(recomputes);
        return recomputes.Single();
    }

    private static Task<(int Rows, LocalDate? From)> RecomputedAsync(
        Npgsql.NpgsqlConnection db, Guid userId, Guid habitId, ConcurrentQueue<(int Rows, LocalDate? From)> recomputes, Func<bool> write) =>
        RecomputedAsync(db, userId, habitId, recomputes, () => Task.FromResult(write()));

    private static async Task<LocalDate> CheckpointDateAsync(Npgsql.NpgsqlConnection db, Guid userId, Guid habitId)
    {
        var json = await db.ExecuteScalarAsync<string>("SELECT streak_checkpoint::text FROM habits WHERE user_id = @userId AND id = @habitId", new { userId, habitId });
        return LocalDatePattern.Iso.Parse(JsonDocument.Parse(json!).RootElement.GetProperty("date").GetString()!).Value;
    }

    private static async Task<(int Current, int Longest)> StreaksAsync(Npgsql.NpgsqlConnection db, Guid userId, Guid habitId)
    {
        var habit = await db.ReadHabitAsync(userId, habitId);
        return (habit.CurrentStreak, habit.LongestStreak);
    }
}
