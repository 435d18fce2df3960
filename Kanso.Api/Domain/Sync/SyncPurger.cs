using Dapper;
using Kanso.Api.Infrastructure.Observability;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Domain.Sync;

/// <summary>What one purge removed.</summary>
internal readonly record struct PurgeCounts(int Entries, int Habits, int Mutations, int TimeOff = 0)
{
    public int Total => Entries + Habits + Mutations + TimeOff;
}

/// <summary>
/// Removes what sync no longer owes anyone: tombstones older than <see cref="SyncOptions.TombstoneRetention"/>
/// and processed mutations older than <see cref="SyncOptions.MutationMemory"/>.
/// <para>
/// Tombstones go in small batches, one transaction per user and batch, each taking the user's row
/// lock first (the lock every writer of that user takes first, so the purge never deadlocks with
/// them) and raising the user's horizon (<c>purged_seq</c>, <c>purged_updated_at</c>) in the same
/// transaction as the delete: a pull sees either the tombstone or the horizon that covers it.
/// Entries go before habits (the foreign key); a deleted habit's entries were all deleted no later
/// than the habit, so when its turn comes they are already gone.
/// </para>
/// Safe to run on several instances at once: the deletes are guarded, so a second purger of the same
/// rows finds nothing to do.
/// </summary>
internal sealed class SyncPurger(NpgsqlDataSource db, IClock clock, IOptions<SyncOptions> options, KansoMetrics metrics)
{
    public async Task<PurgeCounts> PurgeAsync(CancellationToken ct)
    {
        using var activity = KansoDiagnostics.ActivitySource.StartActivity("kanso.purge");
        var settings = options.Value;
        var now = clock.GetCurrentInstant();
        var tombstoneCutoff = now - Duration.FromTimeSpan(settings.TombstoneRetention);
        var entries = await PurgeTombstonesAsync(SyncPurgeSql.OldEntryTombstones, SyncPurgeSql.DeleteEntryTombstones, tombstoneCutoff, settings.PurgeBatchSize, ct);
        var habits = await PurgeTombstonesAsync(SyncPurgeSql.OldHabitTombstones, SyncPurgeSql.DeleteHabitTombstones, tombstoneCutoff, settings.PurgeBatchSize, ct);
        var timeOff = await PurgeTombstonesAsync(SyncPurgeSql.OldTimeOffTombstones, SyncPurgeSql.DeleteTimeOffTombstones, tombstoneCutoff, settings.PurgeBatchSize, ct);
        var mutations = await PurgeMutationsAsync(now - Duration.FromTimeSpan(settings.MutationMemory), settings.PurgeBatchSize, ct);
        var counts = new PurgeCounts(entries, habits, mutations, timeOff);
        metrics.Purged(counts.Total);
        activity?.SetTag("kanso.purge.rows", counts.Total);
        return counts;
    }

    private async Task<int> PurgeTombstonesAsync(string findSql, string deleteSql, Instant cutoff, int batchSize, CancellationToken ct)
    {
        var total = 0;
        await using var connection = await db.OpenConnectionAsync(ct);
        while (true)
        {
            var oldest = (await connection.QueryAsync<(Guid UserId, Guid Id)>(new CommandDefinition(
                findSql, new { cutoff, limit = batchSize }, cancellationToken: ct))).AsList();
            var deleted = 0;
            foreach (var user in oldest.GroupBy(r => r.UserId))
            {
                await using var transaction = await connection.BeginTransactionAsync(ct);
                await connection.ExecuteAsync(new CommandDefinition(SyncPurgeSql.LockUser, new { userId = user.Key }, transaction, cancellationToken: ct));
                await ChangeHints.NotifyAsync(connection, transaction, user.Key, ct);
                deleted += await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                    deleteSql, new { userId = user.Key, ids = user.Select(r => r.Id).ToArray(), cutoff }, transaction, cancellationToken: ct));
                await transaction.CommitAsync(ct);
            }

            total += deleted;

            // A short batch was the last; a batch that deleted nothing was purged by another instance meanwhile.
            if (oldest.Count < batchSize || deleted == 0)
            {
                return total;
            }
        }
    }

    private async Task<int> PurgeMutationsAsync(Instant cutoff, int batchSize, CancellationToken ct)
    {
        var total = 0;
        await using var connection = await db.OpenConnectionAsync(ct);
        while (true)
        {
            var deleted = await connection.ExecuteAsync(new CommandDefinition(SyncPurgeSql.DeleteOldMutations, new { cutoff, limit = batchSize }, cancellationToken: ct));
            total += deleted;
            if (deleted < batchSize)
            {
                return total;
            }
        }
    }
}

internal static class SyncPurgeSql
{
    public const string LockUser = "SELECT 1 FROM users WHERE id = @userId FOR NO KEY UPDATE";

    // Oldest first, through the partial indexes on deleted_at.
    public const string OldEntryTombstones = "SELECT user_id, id FROM habit_entries WHERE deleted_at < @cutoff ORDER BY deleted_at LIMIT @limit";

    public const string OldHabitTombstones = "SELECT user_id, id FROM habits WHERE deleted_at < @cutoff ORDER BY deleted_at LIMIT @limit";

    public const string OldTimeOffTombstones = "SELECT user_id, id FROM time_off WHERE deleted_at < @cutoff ORDER BY deleted_at LIMIT @limit";

    // GREATEST ignores NULLs, so an empty delete leaves the horizon as it was.
    private const string RaiseHorizon = """
        UPDATE users SET
            purged_seq = GREATEST(purged_seq, (SELECT max(change_seq) FROM gone)),
            purged_updated_at = GREATEST(purged_updated_at, (SELECT max(updated_at) FROM gone))
        WHERE id = @userId
        RETURNING (SELECT count(*)::integer FROM gone)
        """;

    public const string DeleteEntryTombstones = $"""
        WITH gone AS (
            DELETE FROM habit_entries WHERE user_id = @userId AND id = ANY(@ids) AND deleted_at < @cutoff
            RETURNING change_seq, updated_at
        )
        {RaiseHorizon}
        """;

    public const string DeleteHabitTombstones = $"""
        WITH gone AS (
            DELETE FROM habits WHERE user_id = @userId AND id = ANY(@ids) AND deleted_at < @cutoff
            RETURNING change_seq, updated_at
        )
        {RaiseHorizon}
        """;

    public const string DeleteTimeOffTombstones = $"""
        WITH gone AS (
            DELETE FROM time_off WHERE user_id = @userId AND id = ANY(@ids) AND deleted_at < @cutoff
            RETURNING change_seq, updated_at
        )
        {RaiseHorizon}
        """;

    public const string DeleteOldMutations = """
        DELETE FROM sync_mutations WHERE (user_id, mutation_id) IN (
            SELECT user_id, mutation_id FROM sync_mutations WHERE created_at < @cutoff ORDER BY created_at LIMIT @limit)
        """;
}
