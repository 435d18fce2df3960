using Dapper;
using Npgsql;

namespace Kanso.Api.Domain.Sync;

/// <summary>
/// The hint that a user's data changed: a <c>pg_notify</c> on <see cref="Channel"/> with the user's
/// id, sent inside the writing transaction. PostgreSQL delivers it to every listening instance only
/// when (and if) that transaction commits, so a hint never precedes its change and a rolled-back
/// write sends none. Notifications with the same payload in one transaction are folded into one.
/// <para>
/// Every change already takes the user's next change number (<see cref="ChangeSequence.NextAsync"/>),
/// which sends the hint in the same round trip; writers that change what a pull answers without a
/// new change number (the purge's horizon, account deletion) call this themselves. The statement
/// stands alone, never inside a distributed UPDATE (Citus runs it on the coordinator, where the
/// instances listen).
/// </para>
/// </summary>
internal static class ChangeHints
{
    public const string Channel = "kanso_changes";

    /// <summary>Appended to the user's id in the payload when the account itself is gone.</summary>
    public const string DeletedSuffix = ":deleted";

    /// <summary>One statement that queues the hint for <c>@userId</c>; meant to run in the writer's transaction.</summary>
    public const string NotifySql = $"SELECT pg_notify('{Channel}', @userId::text)";

    private const string DeletedSql = $"SELECT pg_notify('{Channel}', @userId::text || '{DeletedSuffix}')";

    /// <summary>Queues the hint in <paramref name="transaction"/>: it is delivered when that transaction commits.</summary>
    public static Task NotifyAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid userId, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(NotifySql, new { userId }, transaction, cancellationToken: ct));

    /// <summary>The account is gone: its streams send a last hint and end. Call after the deletion committed.</summary>
    public static Task AccountDeletedAsync(NpgsqlConnection connection, Guid userId, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(DeletedSql, new { userId }, cancellationToken: ct));

    /// <summary>Reads a payload: the user and whether the account was deleted; false for anything else.</summary>
    public static bool TryParse(string payload, out Guid userId, out bool accountDeleted)
    {
        accountDeleted = payload.EndsWith(DeletedSuffix, StringComparison.Ordinal);
        var id = accountDeleted ? payload.AsSpan(0, payload.Length - DeletedSuffix.Length) : payload.AsSpan();
        return Guid.TryParse(id, out userId);
    }
}
