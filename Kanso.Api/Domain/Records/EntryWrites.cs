using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Database;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Json;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Domain.Records;

/// <summary>
/// The writes of an entry, shared by the REST slices and the sync push, with the same rules as
/// <see cref="HabitWrites"/>: the user's change number (and lock) first, then one guarded statement,
/// commit only when <see cref="WriteResult{T}.Changed"/>. Each write also marks the entry's habit
/// <c>streak_dirty</c> in the same statement, with the earliest local date it touches in
/// <c>streak_dirty_from</c> (what lets the recompute start at its checkpoint, see
/// <c>StreakCheckpoint</c>: any other writer of entries must record it too); after commit the caller enqueues the habit on the
/// StreakQueue. Bodies must have passed <see cref="EntryFieldsValidator"/>.
/// </summary>
internal static class EntryWrites
{
    /// <summary>
    /// Creates the entry on a live habit of the caller, or returns the stored copy (live or deleted)
    /// when this user already has the id. <see cref="WriteResult{T}.NotFound"/> means the habit.
    /// </summary>
    /// <param name="zone">The request's zone, for the entry's <c>local_date</c> when the body has none (default UTC).</param>
    public static async Task<WriteResult<EntryRecord>> CreateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, Guid habitId, EntryFields fields, CancellationToken ct,
        DateTimeZone? zone = null)
    {
        if (!fields.CompletionDate.HasValue)
        {
            return new WriteResult<EntryRecord>.Invalid(new Dictionary<string, string[]> { ["completion_date"] = ["'completion_date' is required."] });
        }

        // A retried create is answered without taking a change number.
        if (await FindAsync(connection, transaction, userId, id, ct) is { } stored)
        {
            return new WriteResult<EntryRecord>.Existing(stored);
        }

        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<EntryRecord>.NotFound.Instance;
        }

        var created = await connection.QuerySingleOrDefaultAsync<EntryRecord>(new CommandDefinition(EntrySql.Insert, new
        {
            userId,
            id,
            habitId,
            completionDate = fields.CompletionDate.Value,
            value = EntryRules.Stored(fields.Value.PatchRequired(EntryRules.DefaultValue)),
            notes = fields.Notes.Patch(null),
            changeSeq = change.Number,
            now = change.At,
            localDate = fields.LocalDate.HasValue ? fields.LocalDate.Value : default(LocalDate?),
            localTime = LocalTime(fields.CompletionDate.Value, zone),
            kind = fields.Kind.PatchRequired(EntryRules.Done),
        }, transaction, cancellationToken: ct));
        if (created is not null)
        {
            return new WriteResult<EntryRecord>.Created(created);
        }

        // No row: either the habit is not the caller's live habit, or the id was created meanwhile.
        return await FindAsync(connection, transaction, userId, id, ct) is { } raced
            ? new WriteResult<EntryRecord>.Existing(raced)
            : WriteResult<EntryRecord>.NotFound.Instance;
    }

    /// <summary>Applies a partial update when <paramref name="version"/> is the stored version of a live entry.</summary>
    /// <param name="zone">The request's zone, for <c>local_date</c> when the body sends completion_date without it (default UTC).</param>
    public static async Task<WriteResult<EntryRecord>> UpdateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, int version, EntryFields fields, CancellationToken ct,
        DateTimeZone? zone = null)
    {
        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<EntryRecord>.NotFound.Instance;
        }

        var updated = await connection.QuerySingleOrDefaultAsync<EntryRecord>(new CommandDefinition(EntrySql.Update, new
        {
            userId,
            id,
            version,
            changeSeq = change.Number,
            now = change.At,
            setCompletionDate = fields.CompletionDate.HasValue,
            completionDate = fields.CompletionDate.HasValue ? fields.CompletionDate.Value : default(NodaTime.Instant?),
            setValue = fields.Value.HasValue,
            value = fields.Value.HasValue ? EntryRules.Stored(fields.Value.Value) : default(double?),
            setNotes = fields.Notes.IsSent,
            notes = fields.Notes.Patch(null),
            setLocalDate = fields.LocalDate.HasValue,
            localDate = fields.LocalDate.HasValue ? fields.LocalDate.Value : default(LocalDate?),
            localTime = fields.CompletionDate.HasValue ? LocalTime(fields.CompletionDate.Value, zone) : default(LocalDateTime?),
            setKind = fields.Kind.HasValue,
            kind = fields.Kind.HasValue ? fields.Kind.Value : null,
        }, transaction, cancellationToken: ct));
        if (updated is not null)
        {
            return new WriteResult<EntryRecord>.Applied(updated);
        }

        // The guarded statement changed nothing: one read tells a missing entry from a conflict.
        return await FindAsync(connection, transaction, userId, id, ct) is { } current
            ? new WriteResult<EntryRecord>.Conflict(current)
            : WriteResult<EntryRecord>.NotFound.Instance;
    }

    /// <summary>
    /// Soft-deletes the entry (version + 1). <paramref name="version"/>, when given, must be the
    /// stored version. Deleting a deleted entry changes nothing: <see cref="WriteResult{T}.AlreadyDeleted"/>.
    /// </summary>
    public static async Task<WriteResult<EntryRecord>> DeleteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, int? version, CancellationToken ct)
    {
        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<EntryRecord>.NotFound.Instance;
        }

        var tombstone = await connection.QuerySingleOrDefaultAsync<EntryRecord>(new CommandDefinition(
            EntrySql.Delete, new { userId, id, version, changeSeq = change.Number, now = change.At }, transaction, cancellationToken: ct));
        if (tombstone is not null)
        {
            return new WriteResult<EntryRecord>.Applied(tombstone);
        }

        return await FindAsync(connection, transaction, userId, id, ct) switch
        {
            null => WriteResult<EntryRecord>.NotFound.Instance,
            { IsDeleted: true } deleted => new WriteResult<EntryRecord>.AlreadyDeleted(deleted),
            var current => new WriteResult<EntryRecord>.Conflict(current),
        };
    }

    /// <summary>
    /// The wall-clock time of <paramref name="completionDate"/> in the zone; the statement subtracts
    /// the user's day start from it (under the user's lock) to get the local date.
    /// </summary>
    internal static LocalDateTime LocalTime(Instant completionDate, DateTimeZone? zone)
    {
        zone ??= DateTimeZone.Utc;
        return LocalDays.DateOf(completionDate, zone) == LocalDate.MaxIsoValue
            ? LocalDate.MaxIsoValue.AtMidnight()
            : completionDate.InZone(zone).LocalDateTime;
    }

    /// <summary>The caller's entry by id, live or deleted.</summary>
    public static Task<EntryRecord?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid userId, Guid id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<EntryRecord>(new CommandDefinition(EntrySql.Find, new { userId, id }, transaction, cancellationToken: ct));
}

/// <summary>SQL over <c>habit_entries</c> shared by the entry slices and the sync.</summary>
internal static class EntrySql
{
    /// <summary>The columns of <see cref="EntryRecord"/>.</summary>
    public const string Columns = "id, habit_id, completion_date, local_date, kind, value, notes, version, created_at, updated_at, deleted_at, change_seq";

    /// <summary>The local date of @localTime (a wall-clock time) under the user's day start.</summary>
    private const string DayOfLocalTime = "(@localTime::timestamp - make_interval(mins => (SELECT day_start_minutes FROM users WHERE id = @userId)))::date";

    public const string Find = $"SELECT {Columns} FROM habit_entries WHERE user_id = @userId AND id = @id";

    // The habit must be the caller's and live; marking it dirty is what selects it.
    public const string Insert = $"""
        WITH habit AS (
            UPDATE habits SET streak_dirty = true, streak_dirty_from = least(streak_dirty_from, coalesce(@localDate::date, {DayOfLocalTime}))
            WHERE user_id = @userId AND id = @habitId AND deleted_at IS NULL
            RETURNING id
        )
        INSERT INTO habit_entries (user_id, id, habit_id, completion_date, local_date, kind, value, notes, version, created_at, updated_at, change_seq)
        SELECT @userId, @id, habit.id, @completionDate::timestamptz, coalesce(@localDate::date, {DayOfLocalTime}), @kind::text,
            @value::double precision, @notes::text, 1, @now, @now, @changeSeq
        FROM habit
        ON CONFLICT (user_id, id) DO NOTHING
        RETURNING {Columns}
        """;

    public const string Update = $"""
        WITH before AS (
            SELECT local_date FROM habit_entries WHERE user_id = @userId AND id = @id
        ), entry AS (
            UPDATE habit_entries SET
                completion_date = CASE WHEN @setCompletionDate THEN @completionDate::timestamptz ELSE completion_date END,
                local_date = CASE WHEN @setLocalDate THEN @localDate::date WHEN @setCompletionDate THEN {DayOfLocalTime} ELSE local_date END,
                kind = CASE WHEN @setKind THEN @kind::text ELSE kind END,
                value = CASE WHEN @setValue THEN @value::double precision ELSE value END,
                notes = CASE WHEN @setNotes THEN @notes::text ELSE notes END,
                version = version + 1, updated_at = @now, change_seq = @changeSeq
            WHERE user_id = @userId AND id = @id AND version = @version AND deleted_at IS NULL
            RETURNING {Columns}
        ), dirty AS (
            -- A moved entry changes its old day and its new one: the streak walk must start at the earlier.
            UPDATE habits SET streak_dirty = true, streak_dirty_from = least(streak_dirty_from, entry.local_date, (SELECT local_date FROM before))
            FROM entry WHERE habits.user_id = @userId AND habits.id = entry.habit_id
        )
        SELECT {Columns} FROM entry
        """;

    public const string Delete = $"""
        WITH entry AS (
            UPDATE habit_entries SET deleted_at = @now, updated_at = @now, version = version + 1, change_seq = @changeSeq
            WHERE user_id = @userId AND id = @id AND deleted_at IS NULL AND (@version::integer IS NULL OR version = @version::integer)
            RETURNING {Columns}
        ), dirty AS (
            UPDATE habits SET streak_dirty = true, streak_dirty_from = least(streak_dirty_from, entry.local_date)
            FROM entry WHERE habits.user_id = @userId AND habits.id = entry.habit_id
        )
        SELECT {Columns} FROM entry
        """;
}
