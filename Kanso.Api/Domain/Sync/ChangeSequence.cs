using Dapper;
using Kanso.Api.Infrastructure.Database;
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
        await results.ReadRestAsync(); // the hint's empty result
        return number is { } n ? new Change(n, at) : null;
    }

    // NextSql for several numbers at once: the same lock, clock read and hint.
    private const string TakeWithHintSql = """
        UPDATE users SET change_seq = change_seq + @count WHERE id = @userId RETURNING change_seq;
        SELECT clock_timestamp();
        """ + "\n" + ChangeHints.NotifySql;

    /// <summary>
    /// Takes <paramref name="count"/> consecutive change numbers in one round trip, for a set-wise
    /// write that stamps each changed row with its own number (the sync push's run of creates). Take
    /// only as many as will be used: the numbers of a committed transaction leave no gap.
    /// </summary>
    /// <returns>The numbers and the one instant they stamp, or null when the user no longer exists.</returns>
    public static async Task<ChangeRange?> TakeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, int count, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(TakeWithHintSql, new { userId, count }, transaction, cancellationToken: ct));
        var last = await results.ReadSingleOrDefaultAsync<long?>();
        var at = await results.ReadSingleAsync<Instant>();
        await results.ReadRestAsync(); // the hint's empty result
        return last is { } n ? new ChangeRange(n - count + 1, count, at) : null;
    }
}

/// <summary>A user's change: its number and the instant (updated_at) it stamps.</summary>
internal readonly record struct Change(long Number, Instant At);

/// <summary>Consecutive change numbers <see cref="First"/> .. <see cref="First"/> + <see cref="Count"/> - 1 taken at once, and the instant they stamp.</summary>
internal readonly record struct ChangeRange(long First, int Count, Instant At)
{
    /// <summary>The <paramref name="index"/>-th number (0-based).</summary>
    public long Number(int index) => index >= 0 && index < Count ? First + index : throw new ArgumentOutOfRangeException(nameof(index));
}
