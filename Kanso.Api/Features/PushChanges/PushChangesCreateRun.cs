using Dapper;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Json;
using NodaTime;
using Npgsql;
using EntryResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.EntryRecord>;

namespace Kanso.Api.Features.PushChanges;

/// <summary>
/// A run of consecutive entry creates in a push, applied set-wise in at most three round trips
/// whatever its length, with exactly the results, rows and change numbers that applying them one by
/// one through <see cref="EntryWrites.CreateAsync"/> gives:
/// <list type="number">
/// <item>(with the caller's savepoint) <see cref="PushChangesSql.FindCreates"/>: the run's ids this
/// user already has, and which of its habits are live. An id the user has is answered from the
/// stored copy (<c>applied</c> when a harmless repeat, else <c>conflict</c>), a missing or deleted
/// habit is <c>not_found</c>: neither changes anything nor takes a change number;</item>
/// <item><see cref="ChangeSequence.TakeAsync"/>: one change number for each remaining create, in
/// mutation order (no gap: each is used);</item>
/// <item><see cref="PushChangesSql.InsertEntries"/>: those rows, and their habits marked dirty from
/// the earliest local date the rows touch (as <see cref="EntrySql.Insert"/> marks one).</item>
/// </list>
/// Within a run no mutation can change another's outcome: a run holds only creates of entries,
/// each id and each <c>mutation_id</c> once and none seen before, so no habit is created or deleted
/// and no entry read by one is written by another. Everything read is read under the user's lock,
/// which every writer of the user's rows takes, so it still holds when the rows are inserted.
/// </summary>
internal sealed class PushChangesCreateRun(
    NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, DateTimeZone zone, int protocol, CancellationToken ct)
{
    /// <summary>A single create goes the one-by-one way: set-wise saves it nothing.</summary>
    public const int MinLength = 2;

    /// <summary>
    /// How many mutations from <paramref name="start"/> on form a run: valid entry creates, whose
    /// <c>mutation_id</c> is not <paramref name="seen"/>, with no id or <c>mutation_id</c> twice.
    /// </summary>
    public static int Length(IReadOnlyList<PushMutation> mutations, int start, Func<string, bool> seen)
    {
        var ids = new HashSet<Guid>();
        var mutationIds = new HashSet<string>(StringComparer.Ordinal);
        var end = start;
        while (end < mutations.Count && mutations[end] is var m && IsCreate(m) && !seen(m.MutationId!) && mutationIds.Add(m.MutationId!) && ids.Add(m.Id))
        {
            end++;
        }

        return end - start;
    }

    private static bool IsCreate(PushMutation m) =>
        m is { Errors: null, MutationId: not null, Op: PushOp.UpsertEntry, IsCreate: true, Entry: { HabitId: not null } entry } && entry.CompletionDate.HasValue;

    /// <param name="run">Mutations that <see cref="Length"/> put in one run.</param>
    /// <param name="savepoint">The statement taking the savepoint the caller rolls back to should this throw or answer null; it rides in the first round trip.</param>
    /// <returns>
    /// One outcome per mutation, in order; null when a row the run found insertable was not inserted
    /// (never expected under the lock): the caller then rolls back to its savepoint and applies the run one by one.
    /// </returns>
    public async Task<PushChangesBatch.Outcome[]?> ApplyAsync(IReadOnlyList<PushMutation> run, string savepoint)
    {
        Dictionary<Guid, EntryRecord> existing;
        HashSet<Guid> liveHabits;
        int dayStart;
        await using (var find = await connection.QueryMultipleAsync(new CommandDefinition(savepoint + ";\n" + PushChangesSql.FindCreates, new
        {
            userId,
            ids = run.Select(m => m.Id).ToArray(),
            habitIds = run.Select(HabitOf).Distinct().ToArray(),
        }, transaction, cancellationToken: ct)))
        {
            existing = (await find.ReadAsync<EntryRecord>()).ToDictionary(e => e.Id);
            liveHabits = [.. await find.ReadAsync<Guid>()];
            dayStart = await find.ReadSingleAsync<int>();
        }

        var outcomes = new PushChangesBatch.Outcome[run.Count];
        var creates = new List<int>();
        for (var k = 0; k < run.Count; k++)
        {
            var m = run[k];
            if (existing.TryGetValue(m.Id, out var stored))
            {
                // As the one-by-one path: a create over an id the user has changes nothing; an edit the
                // client believes new is a conflict, never dropped silently.
                var record = EntryResponse.From(stored, protocol);
                outcomes[k] = new(RepeatedCreate.Matches(stored, HabitOf(m), m.Entry!) ? PushResult.Applied(m.MutationId, record) : PushResult.Conflict(m.MutationId, record), null, null);
            }
            else if (!liveHabits.Contains(HabitOf(m)))
            {
                outcomes[k] = new(PushResult.NotFound(m.MutationId), null, null);
            }
            else
            {
                creates.Add(k);
            }
        }

        if (creates.Count == 0)
        {
            return outcomes;
        }

        if (await ChangeSequence.TakeAsync(connection, transaction, userId, creates.Count, ct) is not { } changes)
        {
            return null; // the user is gone, which the lock rules out: the one-by-one path answers it
        }

        var rows = creates.Select(k => run[k]).ToList();
        var fields = rows.Select(m => m.Entry!).ToList();
        var inserted = (await connection.QueryAsync<EntryRecord>(new CommandDefinition(PushChangesSql.InsertEntries, new
        {
            userId,
            dayStart,
            ids = rows.Select(m => m.Id).ToArray(),
            habitIds = rows.Select(HabitOf).ToArray(),
            completionDates = fields.Select(f => f.CompletionDate.Value).ToArray(),
            localDates = fields.Select(f => f.LocalDate.HasValue ? f.LocalDate.Value : default(LocalDate?)).ToArray(),
            localTimes = fields.Select(f => EntryWrites.LocalTime(f.CompletionDate.Value, zone)).ToArray(),
            kinds = fields.Select(f => f.Kind.PatchRequired(EntryRules.Done)).ToArray(),
            values = fields.Select(f => EntryRules.Stored(f.Value.PatchRequired(EntryRules.DefaultValue))).ToArray(),
            notes = fields.Select(f => f.Notes.Patch(null)).ToArray(),
            changeSeqs = Enumerable.Range(0, rows.Count).Select(changes.Number).ToArray(),
            now = changes.At,
        }, transaction, cancellationToken: ct))).ToDictionary(e => e.Id);
        if (inserted.Count != rows.Count)
        {
            return null;
        }

        foreach (var k in creates)
        {
            var created = new EntryResult.Created(inserted[run[k].Id]);
            outcomes[k] = new(PushResult.Applied(run[k].MutationId, EntryResponse.From(created.Record, protocol)), created.Record.ChangeSeq, created.StreakHabitId);
        }

        return outcomes;
    }

    private static Guid HabitOf(PushMutation m) => m.Entry!.HabitId!.Value;
}
