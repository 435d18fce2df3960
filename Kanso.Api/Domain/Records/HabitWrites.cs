using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Database;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Domain.Records;

/// <summary>
/// The writes of a habit, shared by the REST slices and the sync push. Each runs inside the
/// caller's transaction and, before it changes anything, takes the user's next change number
/// (<see cref="ChangeSequence"/>), which also takes the user's row lock: the user's writers are
/// serialized, and the <c>updated_at</c> stamped afterwards (the change's instant, read under the lock) follows commit order.
/// The write itself is one statement guarded by user, id and (for updates) version; the caller
/// commits only when <see cref="WriteResult{T}.Changed"/> is true, and otherwise rolls back, so an
/// answer that changed nothing leaves no trace (not even a used change number).
/// Bodies must have passed <see cref="HabitFieldsValidator"/>; rules across fields are checked here,
/// on the merged record.
/// </summary>
internal static class HabitWrites
{
    /// <summary>
    /// Creates the habit, or returns the stored copy (live or deleted) when this user already has the
    /// id. <paramref name="now"/> is the default <c>start_date</c>.
    /// </summary>
    public static async Task<WriteResult<HabitRecord>> CreateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, HabitFields fields, Instant now, CancellationToken ct)
    {
        var values = HabitValues.Defaults(now).Apply(fields);
        if (values.Errors() is { } errors)
        {
            return new WriteResult<HabitRecord>.Invalid(errors);
        }

        // A retried create is answered without taking a change number.
        if (await FindAsync(connection, transaction, userId, id, ct) is { } stored)
        {
            return new WriteResult<HabitRecord>.Existing(stored);
        }

        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<HabitRecord>.NotFound.Instance;
        }

        var created = await connection.QuerySingleOrDefaultAsync<HabitRecord>(new CommandDefinition(
            HabitSql.Insert, Parameters(userId, id, values.Normalize(), change), transaction, cancellationToken: ct));
        if (created is not null)
        {
            return new WriteResult<HabitRecord>.Created(created);
        }

        // Another request created the same id between the check and the insert.
        return await FindAsync(connection, transaction, userId, id, ct) is { } raced
            ? new WriteResult<HabitRecord>.Existing(raced)
            : WriteResult<HabitRecord>.NotFound.Instance;
    }

    /// <summary>Applies a partial update when <paramref name="version"/> is the stored version of a live habit.</summary>
    public static async Task<WriteResult<HabitRecord>> UpdateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, int version, HabitFields fields, CancellationToken ct)
    {
        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<HabitRecord>.NotFound.Instance;
        }

        // Under the user's lock this copy cannot change before the guarded update below (every
        // client write takes the lock first); the merge needs it for the rules across fields.
        var current = await FindAsync(connection, transaction, userId, id, ct);
        if (current is null)
        {
            return WriteResult<HabitRecord>.NotFound.Instance;
        }

        if (current.IsDeleted || current.Version != version)
        {
            return new WriteResult<HabitRecord>.Conflict(current);
        }

        var values = HabitValues.From(current).Apply(fields);
        if (values.Errors() is { } errors)
        {
            return new WriteResult<HabitRecord>.Invalid(errors);
        }

        var parameters = Parameters(userId, id, values.Normalize(), change);
        parameters.Add("version", version);
        var updated = await connection.QuerySingleOrDefaultAsync<HabitRecord>(new CommandDefinition(HabitSql.Update, parameters, transaction, cancellationToken: ct));
        return updated is not null
            ? new WriteResult<HabitRecord>.Applied(updated)
            : await NoRowChangedAsync(connection, transaction, userId, id, ct);
    }

    /// <summary>
    /// Soft-deletes the habit (version + 1) and tombstones its live entries under the same change
    /// number. <paramref name="version"/>, when given, must be the stored version. Deleting a deleted
    /// habit changes nothing and answers <see cref="WriteResult{T}.AlreadyDeleted"/>.
    /// </summary>
    public static async Task<WriteResult<HabitRecord>> DeleteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, int? version, CancellationToken ct)
    {
        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<HabitRecord>.NotFound.Instance;
        }

        var tombstone = await connection.QuerySingleOrDefaultAsync<HabitRecord>(new CommandDefinition(
            HabitSql.Delete, new { userId, id, version, changeSeq = change.Number, now = change.At }, transaction, cancellationToken: ct));
        if (tombstone is null)
        {
            return await FindAsync(connection, transaction, userId, id, ct) switch
            {
                null => WriteResult<HabitRecord>.NotFound.Instance,
                { IsDeleted: true } deleted => new WriteResult<HabitRecord>.AlreadyDeleted(deleted),
                var current => new WriteResult<HabitRecord>.Conflict(current),
            };
        }

        await connection.ExecuteAsync(new CommandDefinition(
            HabitSql.TombstoneEntries, new { userId, habitId = id, deletedAt = tombstone.DeletedAt, changeSeq = change.Number }, transaction, cancellationToken: ct));
        return new WriteResult<HabitRecord>.Applied(tombstone);
    }

    /// <summary>The caller's habit by id, live or deleted.</summary>
    public static Task<HabitRecord?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid userId, Guid id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<HabitRecord>(new CommandDefinition(HabitSql.Find, new { userId, id }, transaction, cancellationToken: ct));

    /// <summary>The guarded statement changed nothing: one read tells a missing habit from a conflict.</summary>
    private static async Task<WriteResult<HabitRecord>> NoRowChangedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, CancellationToken ct) =>
        await FindAsync(connection, transaction, userId, id, ct) is { } current
            ? new WriteResult<HabitRecord>.Conflict(current)
            : WriteResult<HabitRecord>.NotFound.Instance;

    private static DynamicParameters Parameters(Guid userId, Guid id, HabitValues v, Change change)
    {
        return new DynamicParameters(new
        {
            userId,
            id,
            title = v.Title,
            description = v.Description,
            color = v.Color,
            icon = v.Icon,
            sortOrder = v.SortOrder,
            type = v.Type,
            targetValue = v.TargetValue,
            unit = v.Unit,
            frequencyType = v.FrequencyType,
            weekdays = v.Weekdays,
            interval = v.Interval,
            timesPerWeek = v.TimesPerWeek,
            reminderTime = v.ReminderTime,
            startDate = v.StartDate,
            endDate = v.EndDate,
            archivedAt = v.ArchivedAt,
            goal = v.Goal,
            changeSeq = change.Number,
            now = change.At,
        });
    }
}

/// <summary>SQL over <c>habits</c> shared by the habit slices, the entry writes and the sync.</summary>
internal static class HabitSql
{
    /// <summary>The columns of <see cref="HabitRecord"/>.</summary>
    public const string Columns = """
        id, title, description, color, icon, sort_order, type, target_value, unit, frequency_type, weekdays, "interval",
        times_per_week, reminder_time, start_date, end_date, archived_at, current_streak, longest_streak, version,
        created_at, updated_at, deleted_at, change_seq, goal
        """;

    public const string Find = $"SELECT {Columns} FROM habits WHERE user_id = @userId AND id = @id";

    // @now: the change's instant, read after the user's lock (ChangeSequence).
    public const string Insert = $"""
        INSERT INTO habits (user_id, id, title, description, color, icon, sort_order, type, target_value, unit,
            frequency_type, weekdays, "interval", times_per_week, reminder_time, start_date, end_date, archived_at,
            version, created_at, updated_at, change_seq, goal)
        SELECT @userId, @id, @title::text, @description::text, @color::text, @icon::text, @sortOrder::integer, @type::text,
            @targetValue::double precision, @unit::text, @frequencyType::text, @weekdays::smallint[], @interval::integer,
            @timesPerWeek::integer, @reminderTime::text, @startDate::timestamptz, @endDate::timestamptz, @archivedAt::timestamptz,
            1, @now, @now, @changeSeq, @goal::text
        ON CONFLICT (user_id, id) DO NOTHING
        RETURNING {Columns}
        """;

    public const string Update = $"""
        UPDATE habits SET
            title = @title, description = @description, color = @color, icon = @icon, sort_order = @sortOrder,
            type = @type, target_value = @targetValue, unit = @unit, frequency_type = @frequencyType,
            weekdays = @weekdays::smallint[], "interval" = @interval::integer, times_per_week = @timesPerWeek::integer,
            reminder_time = @reminderTime, start_date = @startDate, end_date = @endDate::timestamptz,
            archived_at = @archivedAt::timestamptz, goal = @goal::text,
            version = version + 1, updated_at = @now, change_seq = @changeSeq,
            -- A new schedule or target changes what counts: the streaks need a recompute.
            streak_dirty = streak_dirty OR (type, target_value, frequency_type, weekdays, "interval", times_per_week, start_date, end_date, goal)
                IS DISTINCT FROM (@type, @targetValue, @frequencyType, @weekdays::smallint[], @interval::integer, @timesPerWeek::integer, @startDate, @endDate::timestamptz, @goal::text)
        WHERE user_id = @userId AND id = @id AND version = @version AND deleted_at IS NULL
        RETURNING {Columns}, streak_dirty
        """;

    // No streak recompute: a tombstone keeps its last streaks (the worker skips deleted habits).
    public const string Delete = $"""
        UPDATE habits SET deleted_at = @now, updated_at = @now, version = version + 1, change_seq = @changeSeq
        WHERE user_id = @userId AND id = @id AND deleted_at IS NULL AND (@version::integer IS NULL OR version = @version::integer)
        RETURNING {Columns}
        """;

    public const string TombstoneEntries = """
        UPDATE habit_entries SET deleted_at = @deletedAt, updated_at = @deletedAt, version = version + 1, change_seq = @changeSeq
        WHERE user_id = @userId AND habit_id = @habitId AND deleted_at IS NULL
        """;
}
