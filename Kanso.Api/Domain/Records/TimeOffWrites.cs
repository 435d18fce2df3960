using Dapper;
using Kanso.Api.Domain.Sync;
using Npgsql;

namespace Kanso.Api.Domain.Records;

/// <summary>
/// The writes of time off, shared by the REST slices and the sync push, with the rules of
/// <see cref="HabitWrites"/>: the user's change number (and lock) first, one guarded statement,
/// commit only when <see cref="WriteResult{T}.Changed"/>. A write that changed the record also marks
/// the live habits it covers, before and after, <c>streak_dirty</c> in the same transaction (the
/// streak worker's sweep finds them) and names them in <see cref="TimeOffRecord.DirtyHabits"/>, for
/// the caller to queue after commit. Bodies must have passed <see cref="TimeOffFieldsValidator"/>.
/// </summary>
internal static class TimeOffWrites
{
    public static async Task<WriteResult<TimeOffRecord>> CreateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, TimeOffFields fields, CancellationToken ct)
    {
        var values = new TimeOffValues(null, null, null, null).Apply(fields);
        if (values.Errors() is { } errors)
        {
            return new WriteResult<TimeOffRecord>.Invalid(errors);
        }

        if (await FindAsync(connection, transaction, userId, id, ct) is { } stored)
        {
            return new WriteResult<TimeOffRecord>.Existing(stored);
        }

        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<TimeOffRecord>.NotFound.Instance;
        }

        var created = await connection.QuerySingleOrDefaultAsync<TimeOffRecord>(new CommandDefinition(TimeOffSql.Insert, new
        {
            userId, id, startDate = values.StartDate, endDate = values.EndDate, habitIds = values.HabitIds, note = values.Note, changeSeq = change.Number, now = change.At,
        }, transaction, cancellationToken: ct));
        if (created is null)
        {
            return await FindAsync(connection, transaction, userId, id, ct) is { } raced
                ? new WriteResult<TimeOffRecord>.Existing(raced)
                : WriteResult<TimeOffRecord>.NotFound.Instance;
        }

        return new WriteResult<TimeOffRecord>.Created(created with { DirtyHabits = await MarkDirtyAsync(connection, transaction, userId, null, created, ct) });
    }

    public static async Task<WriteResult<TimeOffRecord>> UpdateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, int version, TimeOffFields fields, CancellationToken ct)
    {
        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<TimeOffRecord>.NotFound.Instance;
        }

        // Under the user's lock this copy cannot change before the guarded update below.
        var current = await FindAsync(connection, transaction, userId, id, ct);
        if (current is null)
        {
            return WriteResult<TimeOffRecord>.NotFound.Instance;
        }

        if (current.IsDeleted || current.Version != version)
        {
            return new WriteResult<TimeOffRecord>.Conflict(current);
        }

        var values = TimeOffValues.From(current).Apply(fields);
        if (values.Errors() is { } errors)
        {
            return new WriteResult<TimeOffRecord>.Invalid(errors);
        }

        var updated = await connection.QuerySingleOrDefaultAsync<TimeOffRecord>(new CommandDefinition(TimeOffSql.Update, new
        {
            userId, id, version, startDate = values.StartDate, endDate = values.EndDate, habitIds = values.HabitIds, note = values.Note, changeSeq = change.Number, now = change.At,
        }, transaction, cancellationToken: ct));
        if (updated is null)
        {
            return await FindAsync(connection, transaction, userId, id, ct) is { } now
                ? new WriteResult<TimeOffRecord>.Conflict(now)
                : WriteResult<TimeOffRecord>.NotFound.Instance;
        }

        return new WriteResult<TimeOffRecord>.Applied(updated with { DirtyHabits = await MarkDirtyAsync(connection, transaction, userId, current, updated, ct) });
    }

    public static async Task<WriteResult<TimeOffRecord>> DeleteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid id, int? version, CancellationToken ct)
    {
        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return WriteResult<TimeOffRecord>.NotFound.Instance;
        }

        var tombstone = await connection.QuerySingleOrDefaultAsync<TimeOffRecord>(new CommandDefinition(
            TimeOffSql.Delete, new { userId, id, version, changeSeq = change.Number, now = change.At }, transaction, cancellationToken: ct));
        if (tombstone is not null)
        {
            return new WriteResult<TimeOffRecord>.Applied(tombstone with { DirtyHabits = await MarkDirtyAsync(connection, transaction, userId, tombstone, null, ct) });
        }

        return await FindAsync(connection, transaction, userId, id, ct) switch
        {
            null => WriteResult<TimeOffRecord>.NotFound.Instance,
            { IsDeleted: true } deleted => new WriteResult<TimeOffRecord>.AlreadyDeleted(deleted),
            var current => new WriteResult<TimeOffRecord>.Conflict(current),
        };
    }

    public static Task<TimeOffRecord?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid userId, Guid id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<TimeOffRecord>(new CommandDefinition(TimeOffSql.Find, new { userId, id }, transaction, cancellationToken: ct));

    /// <summary>Marks the live habits covered before (<paramref name="before"/>) or after (<paramref name="after"/>) the write.</summary>
    private static async Task<Guid[]> MarkDirtyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, TimeOffRecord? before, TimeOffRecord? after, CancellationToken ct)
    {
        var all = (before is not null && before.HabitIds is null) || (after is not null && after.HabitIds is null);
        var ids = (before?.HabitIds ?? []).Concat(after?.HabitIds ?? []).Distinct().ToArray();
        return (await connection.QueryAsync<Guid>(new CommandDefinition(
            TimeOffSql.MarkHabitsDirty, new { userId, all, ids }, transaction, cancellationToken: ct))).ToArray();
    }
}

/// <summary>SQL over <c>time_off</c> shared by the time off slices and the sync.</summary>
internal static class TimeOffSql
{
    public const string Columns = "id, start_date, end_date, habit_ids, note, version, created_at, updated_at, deleted_at, change_seq";

    public const string Find = $"SELECT {Columns} FROM time_off WHERE user_id = @userId AND id = @id";

    public const string Insert = $"""
        INSERT INTO time_off (user_id, id, start_date, end_date, habit_ids, note, version, created_at, updated_at, change_seq)
        SELECT @userId, @id, @startDate::date, @endDate::date, @habitIds::uuid[], @note::text, 1, @now, @now, @changeSeq
        ON CONFLICT (user_id, id) DO NOTHING
        RETURNING {Columns}
        """;

    public const string Update = $"""
        UPDATE time_off SET start_date = @startDate::date, end_date = @endDate::date, habit_ids = @habitIds::uuid[], note = @note::text,
            version = version + 1, updated_at = @now, change_seq = @changeSeq
        WHERE user_id = @userId AND id = @id AND version = @version AND deleted_at IS NULL
        RETURNING {Columns}
        """;

    public const string Delete = $"""
        UPDATE time_off SET deleted_at = @now, updated_at = @now, version = version + 1, change_seq = @changeSeq
        WHERE user_id = @userId AND id = @id AND deleted_at IS NULL AND (@version::integer IS NULL OR version = @version::integer)
        RETURNING {Columns}
        """;

    public const string MarkHabitsDirty = """
        UPDATE habits SET streak_dirty = true
        WHERE user_id = @userId AND deleted_at IS NULL AND (@all OR id = ANY(@ids))
        RETURNING id
        """;

    public const string Live = $"SELECT {Columns} FROM time_off WHERE user_id = @userId AND deleted_at IS NULL ORDER BY start_date, id";
}
