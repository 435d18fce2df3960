using Dapper;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Domain.Sync;

/// <summary>
/// The per-user change counter behind the pull cursor. Every write to a user's rows takes the next
/// number inside its transaction (which also takes the user's row lock, serializing that user's
/// writers) and stamps it on the rows it changes. A reader can therefore never see change N+1
/// committed while change N is not. It also queues the change's hint (<see cref="ChangeHints"/>),
/// so every writer that takes a number wakes the user's live streams once it commits.
/// </summary>
internal static class ChangeSequence
{
    // Two statements, one round trip: the clock is read after the user's row lock is held, so per
    // user the instants follow commit order (the legacy timestamp cursor relies on it). On Citus the
    // UPDATE runs on the user's worker and the bare SELECT on the coordinator, so every user's
    // instants come from one clock, and the writes stamp them as parameters: an UPDATE of a
    // distributed table may not call a VOLATILE function such as clock_timestamp().
    private const string NextSql = """
        UPDATE users SET change_seq = change_seq + 1 WHERE id = @userId RETURNING change_seq;
        SELECT clock_timestamp();
        """;

    // The change's hint rides in the same round trip and is delivered when the transaction commits
    // (ChangeHints); pg_notify runs on the coordinator on Citus, which delivers it at commit too.
    private const string NextWithHintSql = NextSql + "\n" + ChangeHints.NotifySql;

    /// <returns>The new change number and the instant to stamp on what it changes, or null when the user no longer exists.</returns>
    public static async Task<Change?> NextAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken ct)
    {
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(NextWithHintSql, new { userId }, transaction, cancellationToken: ct));
        var number = await results.ReadSingleOrDefaultAsync<long?>();
        var at = await results.ReadSingleAsync<Instant>();
        return number is { } n ? new Change(n, at) : null;
    }
}

/// <summary>A user's change: its number and the instant (updated_at) it stamps.</summary>
internal readonly record struct Change(long Number, Instant At);
