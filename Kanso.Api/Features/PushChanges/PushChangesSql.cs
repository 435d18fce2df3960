using Kanso.Api.Domain.Records;

namespace Kanso.Api.Features.PushChanges;

internal static class PushChangesSql
{
    // Two statements, one round trip: the lock (and the user's position), then the stored results, read after the lock.
    public const string Begin = """
        SELECT change_seq FROM users WHERE id = @userId FOR NO KEY UPDATE;
        SELECT mutation_id, request_hash, result::text FROM sync_mutations WHERE user_id = @userId AND mutation_id = ANY(@ids);
        """;

    public const string Remember = """
        INSERT INTO sync_mutations (user_id, mutation_id, request_hash, result, created_at)
        SELECT @userId, m.mutation_id, m.request_hash, m.result::json, @now
        FROM unnest(@ids::text[], @hashes::bytea[], @results::text[]) AS m (mutation_id, request_hash, result)
        ON CONFLICT (user_id, mutation_id) DO NOTHING
        """;

    // A run of entry creates (PushChangesCreateRun), read under the user's lock: the run's ids this
    // user already has (live or deleted), which of the run's habits are the user's live habits, and the
    // user's day start (for the local dates; it cannot change while the lock is held).
    public const string FindCreates = $"""
        SELECT {EntrySql.Columns} FROM habit_entries WHERE user_id = @userId AND id = ANY(@ids);
        SELECT id FROM habits WHERE user_id = @userId AND id = ANY(@habitIds) AND deleted_at IS NULL;
        SELECT day_start_minutes::integer FROM users WHERE id = @userId;
        """;

    // EntrySql's local date of a row: the date sent, else its wall-clock time less the user's day start.
    private const string LocalDate = "coalesce(m.local_date, (m.local_time - make_interval(mins => @dayStart))::date)";

    // EntrySql.Insert for many rows: the same habit check (marking it dirty is what selects it, with the
    // earliest local date the rows touch in streak_dirty_from) and the same local date rule, each row
    // with its own change number. The rows are new and their habits live (FindCreates, under the
    // lock), so every row inserts; the caller checks that all did.
    public const string InsertEntries = $"""
        WITH habit AS (
            UPDATE habits SET streak_dirty = true, streak_dirty_from = least(habits.streak_dirty_from, d.day)
            FROM (SELECT m.habit_id, min({LocalDate}) AS day
                  FROM unnest(@habitIds::uuid[], @localDates::date[], @localTimes::timestamp[]) AS m (habit_id, local_date, local_time)
                  GROUP BY m.habit_id) AS d
            WHERE habits.user_id = @userId AND habits.id = d.habit_id AND habits.deleted_at IS NULL
            RETURNING habits.id
        )
        INSERT INTO habit_entries (user_id, id, habit_id, completion_date, local_date, kind, value, notes, version, created_at, updated_at, change_seq)
        SELECT @userId, m.id, habit.id, m.completion_date, {LocalDate}, m.kind, m.value, m.notes, 1, @now, @now, m.change_seq
        FROM unnest(@ids::uuid[], @habitIds::uuid[], @completionDates::timestamptz[], @localDates::date[], @localTimes::timestamp[],
                    @kinds::text[], @values::double precision[], @notes::text[], @changeSeqs::bigint[])
            AS m (id, habit_id, completion_date, local_date, local_time, kind, value, notes, change_seq)
        JOIN habit ON habit.id = m.habit_id
        ON CONFLICT (user_id, id) DO NOTHING
        RETURNING {EntrySql.Columns}
        """;
}
