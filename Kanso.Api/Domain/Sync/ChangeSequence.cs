using Dapper;
using Npgsql;

namespace Kanso.Api.Domain.Sync;

/// <summary>
/// The per-user change counter behind the pull cursor. Every write to a user's rows takes the next
/// number inside its transaction (which also takes the user's row lock, serializing that user's
/// writers) and stamps it on the rows it changes. A reader can therefore never see change N+1
/// committed while change N is not.
/// </summary>
internal static class ChangeSequence
{
    private const string NextSql = "UPDATE users SET change_seq = change_seq + 1 WHERE id = @userId RETURNING change_seq";

    /// <returns>The new change number, or null when the user no longer exists.</returns>
    public static Task<long?> NextAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(NextSql, new { userId }, transaction, cancellationToken: ct));
}
