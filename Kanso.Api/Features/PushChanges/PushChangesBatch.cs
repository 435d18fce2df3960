using System.Text.Json;
using Dapper;
using Kanso.Api.Domain.Records;
using Kanso.Api.Infrastructure.Database;
using Kanso.Api.Infrastructure.Observability;
using NodaTime;
using Npgsql;
using EntryResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.EntryRecord>;
using HabitResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.HabitRecord>;
using TimeOffResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.TimeOffRecord>;

namespace Kanso.Api.Features.PushChanges;

/// <summary>
/// Applies a push's mutations in one transaction, under the user's lock, exactly once per
/// <c>mutation_id</c>: a stored id answers its first result; a new one is applied inside its own
/// savepoint, so a mutation that changes nothing (conflict, not found, invalid, or a statement the
/// database refuses) is rolled back to it, leaves no trace, not even a used change number, and the
/// batch goes on. A run of new entry creates is applied set-wise (<see cref="PushChangesCreateRun"/>)
/// with the same results; should the database refuse one of its rows, the run is rolled back and
/// applied one by one, so that only that row's mutation fails. The caller commits.
/// </summary>
internal sealed class PushChangesBatch(
    NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Instant now, JsonSerializerOptions json, CancellationToken ct)
{
    private bool _savepoint;

    /// <summary>Mutations before this index whose run the database refused go one by one.</summary>
    private int _oneByOneUntil;

    /// <summary>The change number of the batch's last effect (0 when none).</summary>
    public long LastChange { get; private set; }

    /// <summary>The change position of the push's last effect, or the account's position when nothing changed.</summary>
    public long Position => Math.Max(_startPosition, LastChange);

    private long _startPosition;

    /// <summary>Habits whose entries changed (or which were deleted): queued for a streak recompute after commit.</summary>
    public HashSet<Guid> StreakHabits { get; } = [];

    /// <summary>Indexes of the mutations answered from their stored first result (retries).</summary>
    public HashSet<int> Replayed { get; } = [];
    /// <summary>The request's zone, for the local_date of entries that send none.</summary>
    public DateTimeZone Zone { get; init; } = DateTimeZone.Utc;

    /// <summary>The client's protocol: before 2, a skip entry in a result is a tombstone.</summary>
    public int Protocol { get; init; } = 1;

    /// <summary>Runs of entry creates set-wise (the default); off only in tests that compare with the one-by-one path.</summary>
    internal bool SetWise { get; init; } = true;

    private readonly List<Guid> _timeOffHabits = [];

    /// <returns>One result per mutation, in order; null when the user no longer exists.</returns>
    public async Task<PushResult[]?> RunAsync(IReadOnlyList<PushMutation> mutations)
    {
        // The user's lock first: this user's pushes (and writes) run one at a time, so two pushes of the
        // same mutation_id cannot both find it new. Under the lock, the stored results are current.
        var seen = new Dictionary<string, (byte[] Hash, PushResult Result)>(StringComparer.Ordinal);
        await using (var begin = await connection.QueryMultipleAsync(new CommandDefinition(PushChangesSql.Begin, new
        {
            userId,
            ids = mutations.Where(m => m.MutationId is not null).Select(m => m.MutationId!).Distinct().ToArray(),
        }, transaction, cancellationToken: ct)))
        {
            if (await begin.ReadSingleOrDefaultAsync<long?>() is not { } position)
            {
                await begin.ReadRestAsync();
                return null;
            }

            _startPosition = position;
            foreach (var stored in await begin.ReadAsync<(string MutationId, byte[] RequestHash, string Result)>())
            {
                seen[stored.MutationId] = (stored.RequestHash, JsonSerializer.Deserialize<PushResult>(stored.Result, json)!);
            }
        }

        var results = new PushResult[mutations.Count];
        var processed = new List<(string MutationId, byte[] Hash, PushResult Result)>();
        for (var i = 0; i < mutations.Count; i++)
        {
            var mutation = mutations[i];
            if (SetWise && i >= _oneByOneUntil
                && PushChangesCreateRun.Length(mutations, i, seen.ContainsKey) is var length and >= PushChangesCreateRun.MinLength)
            {
                var run = mutations.Skip(i).Take(length).ToList();
                if (await ApplyRunAsync(run) is { } outcomes)
                {
                    for (var k = 0; k < run.Count; k++)
                    {
                        results[i + k] = outcomes[k].Result;
                        seen[run[k].MutationId!] = (run[k].Hash, outcomes[k].Result);
                        processed.Add((run[k].MutationId!, run[k].Hash, outcomes[k].Result));
                    }

                    i += run.Count - 1;
                    continue;
                }

                // The database refused a row of the run (or left one out): the run goes one by one, where only that row's mutation fails.
                _oneByOneUntil = i + run.Count;
            }

            if (mutation.MutationId is not { } mutationId)
            {
                results[i] = PushResult.Rejected(null, mutation.Errors!);
                continue;
            }

            if (seen.TryGetValue(mutationId, out var first))
            {
                var replay = mutation.IsSameAs(first.Hash);
                if (replay)
                {
                    Replayed.Add(i);
                }

                results[i] = replay
                    ? await ReplayAsync(mutation, first.Result)
                    : PushResult.Rejected(mutationId, new Dictionary<string, string[]>
                    {
                        ["mutation_id"] = ["'mutation_id' was already used for a different mutation; give each mutation its own id."],
                    });
                continue;
            }

            using var activity = KansoDiagnostics.ActivitySource.StartActivity("kanso.push.mutation");
            activity?.SetTag("kanso.mutation.op", mutation.Op.ToString());
            var result = mutation.Errors is { } errors ? PushResult.Rejected(mutationId, errors) : await ApplyAsync(mutation);
            activity?.SetTag("kanso.mutation.status", result.Status);
            results[i] = result;
            seen[mutationId] = (mutation.Hash, result);
            processed.Add((mutationId, mutation.Hash, result));
        }

        if (processed.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(PushChangesSql.Remember, new
            {
                userId,
                ids = processed.Select(p => p.MutationId).ToArray(),
                hashes = processed.Select(p => p.Hash).ToArray(),
                results = processed.Select(p => JsonSerializer.Serialize(p.Result, json)).ToArray(),
                now,
            }, transaction, cancellationToken: ct));
        }

        return results;
    }

    /// <summary>
    /// A mutation seen before applies nothing: the first result's status and errors, and the record as
    /// it is now (a tombstone when deleted since; null once purged), so a retry never brings back a
    /// state that another device has changed since.
    /// </summary>
    private async Task<PushResult> ReplayAsync(PushMutation mutation, PushResult first)
    {
        if (first.Record is null)
        {
            return first with { Replayed = true };
        }

        object? current = mutation.Op switch
        {
            PushOp.UpsertHabit or PushOp.DeleteHabit =>
                await HabitWrites.FindAsync(connection, transaction, userId, mutation.Id, ct) is { } habit ? HabitResponse.From(habit) : null,
            PushOp.UpsertTimeOff or PushOp.DeleteTimeOff =>
                await TimeOffWrites.FindAsync(connection, transaction, userId, mutation.Id, ct) is { } timeOff ? TimeOffResponse.From(timeOff) : null,
            _ => await EntryWrites.FindAsync(connection, transaction, userId, mutation.Id, ct) is { } entry ? EntryResponse.From(entry, Protocol) : null,
        };
        return first with { Record = current, Replayed = true };
    }

    /// <returns>The run's outcomes; null when the database refused a row and the run was rolled back.</returns>
    private async Task<Outcome[]?> ApplyRunAsync(IReadOnlyList<PushMutation> run)
    {
        using var activity = KansoDiagnostics.ActivitySource.StartActivity("kanso.push.run");
        activity?.SetTag("kanso.mutation.op", run[0].Op.ToString());
        activity?.SetTag("kanso.run.mutations", run.Count);
        Outcome[]? outcomes;
        try
        {
            outcomes = await new PushChangesCreateRun(connection, transaction, userId, Zone, Protocol, ct).ApplyAsync(run, TakeSavepoint());
        }
        catch (PostgresException ex) when (IsRefused(ex))
        {
            outcomes = null;
        }

        if (outcomes is null)
        {
            activity?.SetTag("kanso.run.one_by_one", true);
            await ExecuteAsync("ROLLBACK TO SAVEPOINT mutation");
            return null;
        }

        activity?.SetTag("kanso.run.created", outcomes.Count(o => o.ChangeSeq is not null));
        foreach (var outcome in outcomes)
        {
            if (outcome.ChangeSeq is { } seq)
            {
                LastChange = Math.Max(LastChange, seq);
                if (outcome.StreakHabit is { } habitId)
                {
                    StreakHabits.Add(habitId);
                }
            }
        }

        return outcomes;
    }

    /// <summary>The statement that releases (keeps) the previous mutation's savepoint and takes a new one.</summary>
    private string TakeSavepoint()
    {
        var sql = _savepoint ? "RELEASE SAVEPOINT mutation; SAVEPOINT mutation" : "SAVEPOINT mutation";
        _savepoint = true;
        return sql;
    }

    /// <summary>A data exception (22) or a constraint violation (23): the row's fault, not the batch's.</summary>
    private static bool IsRefused(PostgresException ex) =>
        ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal);

    private async Task<PushResult> ApplyAsync(PushMutation mutation)
    {
        // One round trip: the previous mutation's savepoint is released (kept) and a new one taken.
        await ExecuteAsync(TakeSavepoint());
        Outcome outcome;
        try
        {
            outcome = await WriteAsync(mutation);
        }
        catch (PostgresException ex) when (IsRefused(ex))
        {
            // The validators mirror the schema's rules; should one slip through, only this mutation fails.
            outcome = new Outcome(PushResult.Rejected(mutation.MutationId, new Dictionary<string, string[]>
            {
                ["data"] = ["A value is outside what the record allows."],
            }), null, null);
        }

        if (outcome.ChangeSeq is { } seq)
        {
            LastChange = Math.Max(LastChange, seq);
            if (outcome.StreakHabit is { } habitId)
            {
                StreakHabits.Add(habitId);
            }

            StreakHabits.UnionWith(_timeOffHabits);
        }
        else
        {
            await ExecuteAsync("ROLLBACK TO SAVEPOINT mutation");
        }

        return outcome.Result;
    }

    private async Task<Outcome> WriteAsync(PushMutation m)
    {
        var id = m.MutationId;
        _timeOffHabits.Clear();
        switch (m.Op)
        {
            case PushOp.UpsertHabit:
                var habit = m.IsCreate
                    ? await HabitWrites.CreateAsync(connection, transaction, userId, m.Id, m.Habit!, now, ct)
                    : await HabitWrites.UpdateAsync(connection, transaction, userId, m.Id, m.Version, m.Habit!, ct);
                // A create over an existing id that would change it is an edit the client believes new: never drop it silently.
                return habit is HabitResult.Existing { Record: var storedHabit } && !RepeatedCreate.Matches(storedHabit, m.Habit!)
                    ? new(PushResult.Conflict(id, HabitResponse.From(storedHabit)), null, null)
                    : FromHabit(id, habit);
            case PushOp.DeleteHabit:
                return FromHabit(id, await HabitWrites.DeleteAsync(connection, transaction, userId, m.Id, m.IsCreate ? null : m.Version, ct));
            case PushOp.UpsertEntry:
                var entry = m.IsCreate
                    ? await EntryWrites.CreateAsync(connection, transaction, userId, m.Id, m.Entry!.HabitId!.Value, m.Entry, ct, Zone)
                    : await EntryWrites.UpdateAsync(connection, transaction, userId, m.Id, m.Version, m.Entry!, ct, Zone);
                return entry is EntryResult.Existing { Record: var storedEntry } && !RepeatedCreate.Matches(storedEntry, m.Entry!.HabitId!.Value, m.Entry)
                    ? new(PushResult.Conflict(id, EntryResponse.From(storedEntry, Protocol)), null, null)
                    : FromEntry(id, entry);
            case PushOp.UpsertTimeOff:
                var timeOff = m.IsCreate
                    ? await TimeOffWrites.CreateAsync(connection, transaction, userId, m.Id, m.TimeOff!, ct)
                    : await TimeOffWrites.UpdateAsync(connection, transaction, userId, m.Id, m.Version, m.TimeOff!, ct);
                return timeOff is TimeOffResult.Existing { Record: var storedTimeOff } && !RepeatedCreate.Matches(storedTimeOff, m.TimeOff!)
                    ? new(PushResult.Conflict(id, TimeOffResponse.From(storedTimeOff)), null, null)
                    : FromTimeOff(id, timeOff);
            case PushOp.DeleteTimeOff:
                return FromTimeOff(id, await TimeOffWrites.DeleteAsync(connection, transaction, userId, m.Id, m.IsCreate ? null : m.Version, ct));
            default:
                return FromEntry(id, await EntryWrites.DeleteAsync(connection, transaction, userId, m.Id, m.IsCreate ? null : m.Version, ct));
        }
    }

    private static Outcome FromHabit(string? id, HabitResult result) => result switch
    {
        HabitResult.Created { Record: var r } => new(PushResult.Applied(id, HabitResponse.From(r)), r.ChangeSeq, result.StreakHabitId),
        HabitResult.Applied { Record: var r } => new(PushResult.Applied(id, HabitResponse.From(r)), r.ChangeSeq, result.StreakHabitId),
        HabitResult.Existing { Record: var r } => new(PushResult.Applied(id, HabitResponse.From(r)), null, null),
        HabitResult.AlreadyDeleted { Record: var r } => new(PushResult.Applied(id, HabitResponse.From(r)), null, null),
        HabitResult.Conflict { Current: var r } => new(PushResult.Conflict(id, HabitResponse.From(r)), null, null),
        HabitResult.Invalid invalid => new(PushResult.Rejected(id, invalid.Errors), null, null),
        _ => new(PushResult.NotFound(id), null, null),
    };

    private Outcome FromEntry(string? id, EntryResult result) => result switch
    {
        EntryResult.Created { Record: var r } => new(PushResult.Applied(id, EntryResponse.From(r, Protocol)), r.ChangeSeq, result.StreakHabitId),
        EntryResult.Applied { Record: var r } => new(PushResult.Applied(id, EntryResponse.From(r, Protocol)), r.ChangeSeq, result.StreakHabitId),
        EntryResult.Existing { Record: var r } => new(PushResult.Applied(id, EntryResponse.From(r, Protocol)), null, null),
        EntryResult.AlreadyDeleted { Record: var r } => new(PushResult.Applied(id, EntryResponse.From(r, Protocol)), null, null),
        EntryResult.Conflict { Current: var r } => new(PushResult.Conflict(id, EntryResponse.From(r, Protocol)), null, null),
        EntryResult.Invalid invalid => new(PushResult.Rejected(id, invalid.Errors), null, null),
        _ => new(PushResult.NotFound(id), null, null),
    };

    private Outcome FromTimeOff(string? id, TimeOffResult result)
    {
        switch (result)
        {
            case TimeOffResult.Created { Record: var r }:
                _timeOffHabits.AddRange(r.DirtyHabits);
                return new(PushResult.Applied(id, TimeOffResponse.From(r)), r.ChangeSeq, null);
            case TimeOffResult.Applied { Record: var r }:
                _timeOffHabits.AddRange(r.DirtyHabits);
                return new(PushResult.Applied(id, TimeOffResponse.From(r)), r.ChangeSeq, null);
            case TimeOffResult.Existing { Record: var r }:
                return new(PushResult.Applied(id, TimeOffResponse.From(r)), null, null);
            case TimeOffResult.AlreadyDeleted { Record: var r }:
                return new(PushResult.Applied(id, TimeOffResponse.From(r)), null, null);
            case TimeOffResult.Conflict { Current: var r }:
                return new(PushResult.Conflict(id, TimeOffResponse.From(r)), null, null);
            case TimeOffResult.Invalid invalid:
                return new(PushResult.Rejected(id, invalid.Errors), null, null);
            default:
                return new(PushResult.NotFound(id), null, null);
        }
    }

    private Task ExecuteAsync(string sql) => connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: ct));

    /// <summary>What a mutation answered, and when it changed rows, their change number and the habit whose streaks it touched.</summary>
    internal readonly record struct Outcome(PushResult Result, long? ChangeSeq, Guid? StreakHabit);
}
