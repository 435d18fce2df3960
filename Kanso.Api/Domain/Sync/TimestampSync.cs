using Dapper;
using Kanso.Api.Infrastructure.Database;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Domain.Sync;

/// <summary>What a read of the earlier API's timestamp sync found.</summary>
internal abstract record TimestampSyncResult<T>
{
    private TimestampSyncResult()
    {
    }

    /// <summary>The records with <c>updated_at</c> at or after the instant asked for, and the instant to ask from next time.</summary>
    public sealed record Changes(List<T> Records, Instant Timestamp) : TimestampSyncResult<T>;

    /// <summary>A tombstone changed at or after the instant asked for has been purged: the client must start over.</summary>
    public sealed record ResyncRequired : TimestampSyncResult<T>;

    public sealed record UserNotFound : TimestampSyncResult<T>;
}

/// <summary>
/// The earlier API's <c>?last_sync=</c> / <c>?since=</c> cursor, made safe. Writers stamp
/// <c>updated_at</c> with <c>clock_timestamp()</c> read after taking the user's row lock (<see cref="ChangeSequence"/>), so per user the
/// stamps follow commit order. The read takes the same row lock in share mode first: a writer that
/// holds it (stamped, not yet committed) is waited for, and no writer can stamp anything until the
/// read ends. The clock read under the lock is then later than every committed stamp and earlier
/// than every future one, so asking again from it (inclusive) misses nothing; the boundary record
/// may come back twice, which the contract (docs/API.md) allows.
/// </summary>
internal static class TimestampSync
{
    // Three statements, one round trip; in READ COMMITTED each takes its snapshot after the one before, so after the lock.
    // The clock is a statement of its own, on no table: on Citus it runs on the coordinator, the
    // clock the writers read too (ChangeSequence), not on the worker that holds the user's rows.
    private const string LockThenClock = """
        SELECT purged_updated_at FROM users WHERE id = @userId FOR SHARE;
        SELECT clock_timestamp();
        """;

    /// <summary>
    /// The whole answer of a legacy sync route: <paramref name="text"/> is the query parameter
    /// <paramref name="parameter"/> (absent: everything); the records are read with
    /// <paramref name="allSql"/> or <paramref name="sinceSql"/> and answered through <paramref name="respond"/>.
    /// </summary>
    public static async Task<Results<Ok<TResponse>, ProblemHttpResult>> AnswerAsync<TRecord, TResponse>(
        string parameter, string? text, NpgsqlDataSource db, Guid userId, string allSql, string sinceSql,
        Func<List<TRecord>, Instant, TResponse> respond, CancellationToken ct)
    {
        Instant? since = null;
        if (!string.IsNullOrEmpty(text))
        {
            if (!WireFormat.TryParseInstant(text, out var parsed))
            {
                return Problems.Invalid(parameter, $"'{parameter}' must be an RFC 3339 instant with an offset, e.g. 2026-03-08T06:59:59.123456Z.");
            }

            since = parsed;
        }

        return await ReadAsync<TRecord>(db, userId, since, since is null ? allSql : sinceSql, ct) switch
        {
            TimestampSyncResult<TRecord>.Changes changes => TypedResults.Ok(respond(changes.Records, changes.Timestamp)),
            TimestampSyncResult<TRecord>.ResyncRequired => Problems.Create(StatusCodes.Status410Gone, "resync required",
                $"Deletions since '{parameter}' are older than the tombstone retention: sync again without '{parameter}' and replace the local copy."),
            _ => Problems.NotFound("user not found"),
        };
    }

    /// <param name="changesSql">Selects the user's records (<c>@userId</c>) changed at or after <c>@since</c>, or all of them when <paramref name="since"/> is null.</param>
    private static async Task<TimestampSyncResult<T>> ReadAsync<T>(
        NpgsqlDataSource db, Guid userId, Instant? since, string changesSql, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            LockThenClock + changesSql, new { userId, since }, transaction, cancellationToken: ct));
        var user = await results.ReadSingleOrDefaultAsync<UserRow>();
        var now = await results.ReadSingleAsync<Instant>();
        if (user is null)
        {
            await results.ReadRestAsync();
            return new TimestampSyncResult<T>.UserNotFound();
        }

        // A purged tombstone with updated_at >= since would have been in this answer.
        if (since is { } from && user.PurgedUpdatedAt is { } purged && from <= purged)
        {
            await results.ReadRestAsync();
            return new TimestampSyncResult<T>.ResyncRequired();
        }

        var records = (await results.ReadAsync<T>()).AsList();
        return new TimestampSyncResult<T>.Changes(records, now);
    }

    private sealed record UserRow(Instant? PurgedUpdatedAt);
}
