using Dapper;
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
    private const string NextSql = "UPDATE users SET change_seq = change_seq + 1 WHERE id = @userId RETURNING change_seq";

    // The change's hint rides in the same round trip and is delivered when the transaction commits (ChangeHints).
    private const string NextWithHintSql = NextSql + ";\n" + ChangeHints.NotifySql;

    /// <returns>The new change number, or null when the user no longer exists.</returns>
    public static Task<long?> NextAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(NextWithHintSql, new { userId }, transaction, cancellationToken: ct));
}
