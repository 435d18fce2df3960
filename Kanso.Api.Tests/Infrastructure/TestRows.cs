using Dapper;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Text;
using Npgsql;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>A habits row for tests that insert data directly, in the schema of migrations/0001_init.sql.</summary>
public sealed record TestHabit
{
    public Guid Id { get; init; } = Guid.NewGuid();

    public string Title { get; init; } = "Habit";

    public string? Color { get; init; }

    public string? Icon { get; init; }

    public string? Unit { get; init; }

    public int SortOrder { get; init; }

    public double TargetValue { get; init; } = 1;

    public string FrequencyType { get; init; } = "daily";

    public short[]? Weekdays { get; init; }

    public int? Interval { get; init; }

    public int? TimesPerWeek { get; init; }

    public Instant StartDate { get; init; } = Instant.FromUtc(2026, 1, 1, 0, 0);

    public Instant? EndDate { get; init; }

    public Instant? ArchivedAt { get; init; }

    public Instant? DeletedAt { get; init; }

    public int CurrentStreak { get; init; }

    public int LongestStreak { get; init; }

    public bool StreakDirty { get; init; }

    public int Version { get; init; } = 1;
}

/// <summary>A habit_entries row.</summary>
public sealed record TestEntry(Instant CompletionDate, double Value = 1, bool Deleted = false);

public static class TestRows
{
    /// <summary>A connection from the app's own data source, which reads and writes NodaTime types.</summary>
    public static ValueTask<NpgsqlConnection> OpenAppDatabaseAsync(this KansoApiFactory factory) =>
        factory.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();

    private const string InsertHabitSql = """
        INSERT INTO habits (user_id, id, title, color, icon, unit, sort_order, type, target_value, frequency_type, weekdays,
                            "interval", times_per_week, start_date, end_date, archived_at, deleted_at, current_streak, longest_streak,
                            streak_dirty, version, created_at, updated_at, change_seq)
        VALUES (@userId, @Id, @Title, @Color, @Icon, @Unit, @SortOrder, @type, @TargetValue, @FrequencyType, @Weekdays,
                @Interval, @TimesPerWeek, @StartDate, @EndDate, @ArchivedAt, @DeletedAt, @CurrentStreak, @LongestStreak,
                @StreakDirty, @Version, @StartDate, @StartDate, @changeSeq)
        """;

    private const string InsertEntrySql = """
        INSERT INTO habit_entries (user_id, id, habit_id, completion_date, local_date, value, created_at, updated_at, deleted_at, change_seq)
        SELECT @userId, @id, @habitId, @completionDate, LEAST((@completionDate AT TIME ZONE u.timezone)::date, '9999-12-31'::date), @value, @completionDate, @completionDate, @deletedAt, @changeSeq
        FROM users u WHERE u.id = @userId
        """;

    /// <summary>
    /// Inserts a habit and its entries in one transaction under one change number, the way an
    /// entry write commits (so a running streak worker never sees the habit without its entries).
    /// </summary>
    public static async Task<TestHabit> InsertHabitAsync(this NpgsqlConnection db, Guid userId, TestHabit habit, params TestEntry[] entries)
    {
        await using var tx = await db.BeginTransactionAsync();
        var changeSeq = await db.QuerySingleAsync<long>("UPDATE users SET change_seq = change_seq + 1 WHERE id = @userId RETURNING change_seq", new { userId }, tx);
        await db.ExecuteAsync(new CommandDefinition(InsertHabitSql, new
        {
            userId,
            habit.Id,
            habit.Title,
            habit.Color,
            habit.Icon,
            habit.Unit,
            habit.SortOrder,
            type = habit.TargetValue == 1 ? "boolean" : "numeric",
            habit.TargetValue,
            habit.FrequencyType,
            habit.Weekdays,
            habit.Interval,
            habit.TimesPerWeek,
            habit.StartDate,
            habit.EndDate,
            habit.ArchivedAt,
            habit.DeletedAt,
            habit.CurrentStreak,
            habit.LongestStreak,
            habit.StreakDirty,
            habit.Version,
            changeSeq,
        }, tx));
        foreach (var entry in entries)
        {
            await db.ExecuteAsync(new CommandDefinition(InsertEntrySql, new
            {
                userId,
                id = Guid.NewGuid(),
                habitId = habit.Id,
                completionDate = entry.CompletionDate,
                value = entry.Value,
                deletedAt = entry.Deleted ? entry.CompletionDate : (Instant?)null,
                changeSeq,
            }, tx));
        }

        await tx.CommitAsync();
        return habit;
    }

    public static Task<StoredHabit> ReadHabitAsync(this NpgsqlConnection db, Guid userId, Guid habitId) =>
        db.QuerySingleAsync<StoredHabit>(
            "SELECT current_streak, longest_streak, streak_dirty, streak_due_at, version, change_seq, updated_at FROM habits WHERE user_id = @userId AND id = @habitId",
            new { userId, habitId });

    public static Task<long> ReadUserChangeSeqAsync(this NpgsqlConnection db, Guid userId) =>
        db.QuerySingleAsync<long>("SELECT change_seq FROM users WHERE id = @userId", new { userId });

    /// <summary>The instant of a local date and time in a zone (the later instant when it repeats).</summary>
    public static Instant Local(string zone, string localDateTime) =>
        LocalDateTimePattern.ExtendedIso.Parse(localDateTime).Value.InZoneLeniently(DateTimeZoneProviders.Tzdb[zone]).ToInstant();

    /// <summary>Polls until <paramref name="condition"/> holds, failing after <paramref name="timeout"/> (default 20 s).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }
}

public sealed class StoredHabit
{
    public int CurrentStreak { get; set; }

    public int LongestStreak { get; set; }

    public bool StreakDirty { get; set; }

    public Instant? StreakDueAt { get; set; }

    public int Version { get; set; }

    public long ChangeSeq { get; set; }

    public Instant UpdatedAt { get; set; }
}
