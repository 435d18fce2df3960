using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Database;
using Kanso.Api.Infrastructure.Observability;
using Kanso.Api.Infrastructure.Time;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Domain.Streaks;

/// <summary>
/// Recomputes and stores streaks, for the streak worker's queued jobs and its sweeps.
/// <para>
/// Locking: a recompute runs in one transaction that first locks the user's row (the lock every
/// write of that user takes through <see cref="ChangeSequence"/>), then the habit rows. That is the
/// writers' order, so it never deadlocks with them, and no entry write can commit between reading
/// the entries and clearing <c>streak_dirty</c>: a write that re-dirties the habit waits for the
/// lock and sets the mark again after us. A habit found clean is skipped: another worker (or
/// instance) already stored a result newer than the write that queued the job.
/// </para>
/// <para>
/// Sweeps claim users with <c>FOR NO KEY UPDATE SKIP LOCKED</c>, so instances sweeping together
/// each take different users and never repeat each other's work, and a user that is busy writing
/// is left for the next sweep (its write queued a job anyway).
/// </para>
/// <para>
/// Days passing: a stored result whose streaks a passing day could change (a running streak, or
/// an entry dated after today) also stores <c>streak_due_at</c>, the start of the user's next local
/// day; the sweep recomputes habits whose instant has come. Stored streaks therefore
/// stay true without any write (a missed yesterday shows current 0 within one sweep interval of
/// local midnight), and every reader (GET /habits, /sync/pull, stats) just reads the row. Chosen
/// over evaluating "current" at read time because pull must also carry the change (with a new
/// change number) to clients that cache habits offline.
/// </para>
/// </summary>
internal sealed class StreakRecalculator(NpgsqlDataSource db, IClock clock, KansoMetrics metrics, ILogger<StreakRecalculator> logger)
{
    private long _recomputed;
    private long _entriesRead;
    private long _jobTransactions;
    private long _sweeps;

    /// <summary>How many habits this instance has recomputed (for tests and diagnostics).</summary>
    public long Recomputed => Interlocked.Read(ref _recomputed);

    /// <summary>How many entry rows the recomputes of this instance have read (for tests and diagnostics).</summary>
    public long EntriesRead => Interlocked.Read(ref _entriesRead);

    /// <summary>How many transactions this instance has run for queued jobs (not sweeps), for tests and diagnostics.</summary>
    public long JobTransactions => Interlocked.Read(ref _jobTransactions);

    /// <summary>How many sweeps of this instance have ended, done or failed (for tests and diagnostics).</summary>
    public long Sweeps => Interlocked.Read(ref _sweeps);

    /// <summary>Tests only: called for each live habit recomputed, with the entry rows read for it and the checkpoint's date it resumed from (null: the whole history).</summary>
    internal Action<Guid, int, LocalDate?>? RecomputedHook { get; set; }

    /// <summary>Recomputes one habit if it is still dirty (or due); waits for the user's lock.</summary>
    public Task RecomputeHabitAsync(Guid userId, Guid habitId, CancellationToken ct) =>
        RecomputeHabitsAsync(userId, [habitId], ct);

    /// <summary>Recomputes those habits of one user that are still dirty (or due), in one transaction; waits for the user's lock.</summary>
    public Task RecomputeHabitsAsync(Guid userId, Guid[] habitIds, CancellationToken ct)
    {
        Interlocked.Increment(ref _jobTransactions);
        return RecomputeUserAsync(userId, habitIds, skipLocked: false, ct);
    }

    /// <summary>
    /// One sweep: every user with dirty or due habits, one transaction per user and up to
    /// <paramref name="concurrency"/> users at a time, until none is left. A recomputed user drops
    /// out of the candidates by itself (its habits are clean and due tomorrow); a user that is
    /// locked elsewhere, fails (logged), or comes back a second time (re-dirtied meanwhile) is
    /// excluded for the rest of this sweep and left to the next one.
    /// </summary>
    /// <returns>The number of users whose habits were recomputed.</returns>
    public async Task<int> SweepAsync(int batchSize, CancellationToken ct, int concurrency = 1)
    {
        using var activity = KansoDiagnostics.ActivitySource.StartActivity("kanso.streak.sweep");
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            metrics.SweepLag(TimeSpan.FromSeconds(await connection.ExecuteScalarAsync<double>(new CommandDefinition(
                StreakSql.OldestDueLagSeconds, new { now = clock.GetCurrentInstant() }, cancellationToken: ct))));
        }

        var excluded = new HashSet<Guid>();
        var recomputed = new HashSet<Guid>();
        var done = 0;
        try
        {
            while (true)
            {
                IReadOnlyList<Guid> candidates;
                await using (var connection = await db.OpenConnectionAsync(ct))
                {
                    Guid[] skip;
                    lock (excluded)
                    {
                        skip = [.. excluded];
                    }

                    candidates = (await connection.QueryAsync<Guid>(new CommandDefinition(
                        StreakSql.UsersWithDueHabits,
                        new { now = clock.GetCurrentInstant(), excluded = skip, limit = batchSize },
                        cancellationToken: ct))).AsList();
                }

                if (candidates.Count == 0)
                {
                    return done;
                }

                await Parallel.ForEachAsync(candidates, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct }, async (userId, token) =>
                {
                    var ok = false;
                    try
                    {
                        ok = await RecomputeUserAsync(userId, habitIds: null, skipLocked: true, token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        logger.LogError(ex, "Streak sweep failed for user {UserId}; their habits stay dirty for the next sweep", userId);
                    }

                    lock (excluded)
                    {
                        if (!ok || !recomputed.Add(userId))
                        {
                            excluded.Add(userId);
                        }

                        done += ok ? 1 : 0;
                    }
                });
            }
        }
        finally
        {
            Interlocked.Increment(ref _sweeps);
        }
    }

    /// <param name="habitIds">The habits to recompute if still dirty or due; null: all of the user's that are.</param>
    /// <returns>False when the user is gone or (with <paramref name="skipLocked"/>) locked by someone else.</returns>
    private async Task<bool> RecomputeUserAsync(Guid userId, Guid[]? habitIds, bool skipLocked, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);

        var now = clock.GetCurrentInstant();
        UserRow? user;
        List<HabitRow> habits;
        List<TimeOffRow> timeOff;
        if (habitIds is not null && !skipLocked)
        {
            // A queued job waits for the user's lock anyway: the lock, the habits and the time off in
            // one round trip (each statement runs after the one before, so the two reads see every write
            // that committed before the lock was granted; a user that is gone has no rows either).
            await using var begin = await connection.QueryMultipleAsync(new CommandDefinition(
                StreakSql.LockUser + ";\n" + StreakSql.LockDueHabits + ";\n" + StreakSql.LiveTimeOff,
                new { userId, habitIds, now }, tx, cancellationToken: ct));
            user = await begin.ReadSingleOrDefaultAsync<UserRow>();
            habits = (await begin.ReadAsync<HabitRow>()).AsList();
            timeOff = (await begin.ReadAsync<TimeOffRow>()).AsList();
        }
        else
        {
            // A sweep skips a user someone else holds: it must not queue behind that writer's habit rows.
            user = await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
                skipLocked ? StreakSql.TryLockUser : StreakSql.LockUser, new { userId }, tx, cancellationToken: ct));
            habits = user is null ? [] : (await connection.QueryAsync<HabitRow>(new CommandDefinition(
                habitIds is null ? StreakSql.LockDueHabitsOfUser : StreakSql.LockDueHabits,
                new { userId, habitIds, now }, tx, cancellationToken: ct))).AsList();
            timeOff = habits.Count == 0 ? [] : (await connection.QueryAsync<TimeOffRow>(new CommandDefinition(
                StreakSql.LiveTimeOff, new { userId }, tx, cancellationToken: ct))).AsList();
        }

        if (user is null)
        {
            return false;
        }

        if (habits.Count == 0)
        {
            await tx.CommitAsync(ct);
            return true;
        }

        // Entries count on their stored local date; the zone and the day start only decide today.
        var zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(user.Timezone) ?? DateTimeZone.Utc;
        var today = LocalDays.DateOf(now, zone, user.DayStartMinutes);

        // Per live habit, its schedule and whether its checkpoint still holds: then only the
        // entries from the checkpoint's date on are read, else the whole history.
        var plans = new List<(HabitRow Habit, HabitSchedule Schedule, (LocalDate Start, LocalDate End)[] TimeOff, StreakCheckpoint? Resume)>();
        foreach (var habit in habits.Where(h => h.DeletedAt is null))
        {
            var schedule = HabitSchedule.FromRow(
                habit.FrequencyType, habit.Weekdays, habit.Interval, habit.TimesPerWeek, habit.TargetValue, habit.StartDate, habit.EndDate, zone,
                habit.Goal, user.DayStartMinutes);
            var ranges = timeOff.Where(t => t.HabitIds is null || t.HabitIds.Contains(habit.Id)).Select(t => (t.StartDate, t.EndDate)).ToArray();
            var resume = IncrementalStreak.Plan(
                schedule, ranges, StreakCheckpoint.FromJson(habit.StreakCheckpoint), habit.StreakDirty || habit.StreakWholeHistory,
                habit.StreakWholeHistory ? null : habit.StreakDirtyFrom, today);
            plans.Add((habit, schedule, ranges, resume));
        }

        var entries = new Dictionary<Guid, List<(LocalDate Day, bool Skip, double Value)>>();
        if (plans.Count > 0)
        {
            var rows = (await connection.QueryAsync<EntryRow>(new CommandDefinition(
                StreakSql.LiveEntriesOfHabitsFrom,
                new { userId, habitIds = plans.Select(p => p.Habit.Id).ToArray(), froms = plans.Select(p => p.Resume?.Date).ToArray() },
                tx, cancellationToken: ct))).AsList();
            Interlocked.Add(ref _entriesRead, rows.Count);
            foreach (var entry in rows)
            {
                (entries.TryGetValue(entry.HabitId, out var list) ? list : entries[entry.HabitId] = []).Add((entry.LocalDate, entry.Kind == "skip", entry.Value));
            }
        }

        var changed = new List<StoredStreak>();
        var unchanged = new List<StoredStreak>();
        foreach (var habit in habits.Where(h => h.DeletedAt is not null))
        {
            // A tombstone keeps its last streaks: nothing to show and nothing to keep true.
            unchanged.Add(new StoredStreak(habit.Id, habit.CurrentStreak, habit.LongestStreak, null, habit.StreakCheckpoint));
        }

        foreach (var (habit, schedule, ranges, resume) in plans)
        {
            var days = entries.GetValueOrDefault(habit.Id) ?? [];
            var (result, next) = IncrementalStreak.Run(schedule, ranges, resume, days, today);
            RecomputedHook?.Invoke(habit.Id, days.Count, resume?.Date);

            // A passing day can only end a running streak, or bring a future-dated entry into
            // range; and nothing once the habit's last day is behind us. Otherwise the next
            // recompute is at the start of the user's next local day.
            var mayChange = (result.Current > 0 || days.Any(d => d.Day > today && !d.Skip)) && !(schedule.LastDay is { } last && last < today);
            // An at_most day completes when it is over, so a passing day can also start or extend a run.
            mayChange |= schedule.IsAtMost && !(schedule.LastDay is { } end && end < today);
            Instant? dueAt = mayChange ? LocalDays.StartOf(zone, today.PlusDays(1), user.DayStartMinutes) : null;
            var stored = new StoredStreak(habit.Id, result.Current, result.Longest, dueAt, next?.ToJson());
            (result.Current == habit.CurrentStreak && result.Longest == habit.LongestStreak ? unchanged : changed).Add(stored);
        }

        // A streak change is a change clients must pull: a new change number, but the same version, so
        // it never conflicts with a client's edit; updated_at moves too, for the earlier timestamp-cursor
        // sync. Every habit's result is stored by one statement.
        var change = changed.Count > 0 ? await ChangeSequence.NextAsync(connection, tx, userId, ct) : null;
        var all = changed.Concat(unchanged).ToList();
        await connection.ExecuteAsync(new CommandDefinition(StreakSql.StoreStreaks, new
        {
            userId,
            habitIds = all.Select(s => s.HabitId).ToArray(),
            currents = all.Select(s => s.Current).ToArray(),
            longests = all.Select(s => s.Longest).ToArray(),
            dueAts = all.Select(s => s.DueAt).ToArray(),
            checkpoints = all.Select(s => s.Checkpoint).ToArray(),
            changed = all.Select((_, i) => i < changed.Count).ToArray(),
            changeSeq = change?.Number,
            now = change?.At,
        }, tx, cancellationToken: ct));

        await tx.CommitAsync(ct);
        Interlocked.Add(ref _recomputed, habits.Count);
        return true;
    }

    private sealed class UserRow
    {
        public string Timezone { get; set; } = "UTC";

        public int DayStartMinutes { get; set; }
    }

    private sealed class TimeOffRow
    {
        public LocalDate StartDate { get; set; }

        public LocalDate EndDate { get; set; }

        public Guid[]? HabitIds { get; set; }
    }

    private sealed record StoredStreak(Guid HabitId, int Current, int Longest, Instant? DueAt, string? Checkpoint);

    private sealed class HabitRow
    {
        public Guid Id { get; set; }

        public string FrequencyType { get; set; } = "daily";

        public short[]? Weekdays { get; set; }

        public int? Interval { get; set; }

        public int? TimesPerWeek { get; set; }

        public double TargetValue { get; set; }

        public string Goal { get; set; } = "at_least";

        public Instant StartDate { get; set; }

        public Instant? EndDate { get; set; }

        public Instant? DeletedAt { get; set; }

        public int CurrentStreak { get; set; }

        public int LongestStreak { get; set; }

        public bool StreakDirty { get; set; }

        /// <summary>An entry writer asked for the whole history (<c>streak_dirty_from = '-infinity'</c>).</summary>
        public bool StreakWholeHistory { get; set; }

        public LocalDate? StreakDirtyFrom { get; set; }

        public string? StreakCheckpoint { get; set; }
    }

    private sealed class EntryRow
    {
        public Guid HabitId { get; set; }

        public LocalDate LocalDate { get; set; }

        public string Kind { get; set; } = "done";

        public double Value { get; set; }
    }
}

internal static class StreakSql
{
    // The lock the user's writers take (ChangeSequence's UPDATE of the same row), taken first.
    public const string LockUser = "SELECT timezone, day_start_minutes FROM users WHERE id = @userId FOR NO KEY UPDATE";

    public const string TryLockUser = "SELECT timezone, day_start_minutes FROM users WHERE id = @userId FOR NO KEY UPDATE SKIP LOCKED";

    public const string LiveTimeOff = "SELECT start_date, end_date, habit_ids FROM time_off WHERE user_id = @userId AND deleted_at IS NULL";

    // streak_dirty_from comes as a date, or as streak_whole_history when it is '-infinity'.
    private const string HabitColumns = """
        SELECT id, frequency_type, weekdays, "interval", times_per_week, target_value, goal, start_date, end_date,
               deleted_at, current_streak, longest_streak, streak_dirty, streak_checkpoint::text AS streak_checkpoint,
               coalesce(streak_dirty_from = '-infinity', false) AS streak_whole_history,
               CASE WHEN isfinite(streak_dirty_from) THEN streak_dirty_from END AS streak_dirty_from
        FROM habits
        """;

    public const string LockDueHabits = HabitColumns + """

        WHERE user_id = @userId AND id = ANY(@habitIds) AND (streak_dirty OR streak_due_at <= @now)
        ORDER BY id
        FOR UPDATE
        """;

    public const string LockDueHabitsOfUser = HabitColumns + """

        WHERE user_id = @userId AND (streak_dirty OR streak_due_at <= @now)
        ORDER BY id
        FOR UPDATE
        """;

    /// <summary>
    /// The live entries of each habit from its date on (null: all of them), a range of
    /// habit_entries_user_habit_local_date per habit.
    /// </summary>
    public const string LiveEntriesOfHabitsFrom = """
        SELECT e.habit_id, e.local_date, e.kind, e.value
        FROM unnest(@habitIds::uuid[], @froms::date[]) AS f(habit_id, from_date)
        JOIN habit_entries e ON e.user_id = @userId AND e.habit_id = f.habit_id AND e.deleted_at IS NULL
            AND e.local_date >= coalesce(f.from_date, '-infinity'::date)
        WHERE e.user_id = @userId
        """;

    /// <summary>Seconds since the oldest due streak fell due (0 when none is due): how late the sweeps run (habits_streak_due).</summary>
    public const string OldestDueLagSeconds = """
        SELECT COALESCE(EXTRACT(EPOCH FROM @now - min(streak_due_at)), 0)::float8 FROM habits WHERE streak_due_at <= @now
        """;

    /// <summary>Users with a dirty habit (habits_streak_dirty) or one whose next local day has begun (habits_streak_due).</summary>
    public const string UsersWithDueHabits = """
        SELECT user_id FROM habits WHERE streak_dirty AND user_id <> ALL(@excluded)
        UNION
        SELECT user_id FROM habits WHERE streak_due_at <= @now AND user_id <> ALL(@excluded)
        LIMIT @limit
        """;

    /// <summary>
    /// Each habit's recomputed streaks, checkpoint and next due instant; those whose streaks changed
    /// also take the change number and its instant (null when none changed).
    /// </summary>
    public const string StoreStreaks = """
        UPDATE habits h
        SET current_streak = s.current_streak, longest_streak = s.longest_streak, streak_dirty = false,
            streak_due_at = s.due_at, streak_dirty_from = NULL, streak_checkpoint = s.checkpoint::jsonb,
            change_seq = CASE WHEN s.changed THEN @changeSeq::bigint ELSE h.change_seq END,
            updated_at = CASE WHEN s.changed THEN @now::timestamptz ELSE h.updated_at END
        FROM unnest(@habitIds::uuid[], @currents::integer[], @longests::integer[], @dueAts::timestamptz[], @checkpoints::text[], @changed::boolean[])
            AS s (id, current_streak, longest_streak, due_at, checkpoint, changed)
        WHERE h.user_id = @userId AND h.id = s.id
        """;
}
