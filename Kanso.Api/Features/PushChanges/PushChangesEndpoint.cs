using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Background;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Records;
using Kanso.Api.Infrastructure.Sync;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using EntryResult = Kanso.Api.Infrastructure.Records.WriteResult<Kanso.Api.Infrastructure.Records.EntryRecord>;
using HabitResult = Kanso.Api.Infrastructure.Records.WriteResult<Kanso.Api.Infrastructure.Records.HabitRecord>;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Kanso.Api.Features.PushChanges;

internal static class PushChangesEndpoint
{
    public const int MaxMutations = 500;

    public static RouteGroupBuilder MapPushChanges(this RouteGroupBuilder group)
    {
        group.MapPost("/sync/push", HandleAsync)
            .WithName("PushChanges")
            .WithSummary("Applies a batch of up to 500 mutations in order, each on its own, in one transaction; answers one result per mutation, in request order, and the `cursor` of the push's last effect.")
            .WithDescription("""
                Body: `{mutations: [{mutation_id, op, id, version, data}]}`. A body that is not such an envelope (no `mutations` array), or more than 500 mutations, is 400; anything wrong inside one mutation only rejects that mutation.

                **Mutations.** `op` is `upsert_habit`, `delete_habit`, `upsert_entry` or `delete_entry`; `id` is the record's UUID; `data` holds the record's fields (as in POST/PUT; server-owned fields are ignored). `version` absent or 0 creates: `upsert_entry` then needs `data.habit_id` and `data.completion_date`; an `id` this account already has (live or deleted) is answered `applied` with the stored copy and changes nothing, like a retried POST (to change it, send its `version`). `version` ≥ 1 updates only if it is the stored version (a partial update, as PUT). A delete with `version` ≥ 1 is checked the same way; without it the delete is unconditional. A later mutation may use a habit created earlier in the same push.

                **Results.** `{mutation_id, status, record, errors}`: `applied` (`record` is the record as stored; a tombstone for a delete, also when it was already deleted), `conflict` (`record` is the server's current copy, a tombstone when deleted: rebase and retry with its version), `not_found` (no such record for this account, or for a new entry, no such live habit) or `rejected` (`errors`: `{field: [messages]}`; a malformed mutation, e.g. an unknown `op` or a missing `mutation_id` or `id`, is rejected too). Nothing of a mutation that is not `applied` is kept.

                **Exactly once.** Each `mutation_id` is remembered for the account (at least 7 days) with its result: sending it again with the same mutation returns that first result and applies nothing, so a push whose answer was lost can simply be retried. The same `mutation_id` with a different mutation is `rejected` with `errors.mutation_id`.

                **Read-your-writes.** `cursor` is the change position of the push's last effect (the account's current position when nothing changed). Pull until `has_more` is false and you have seen every effect of this push.
                """)
            .WithTags("Sync")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<PushChangesResponse>, ProblemHttpResult>> HandleAsync(
        PushChangesRequest request, ClaimsPrincipal principal, NpgsqlDataSource db, IClock clock, StreakQueue streaks, IOptions<JsonOptions> json, CancellationToken ct)
    {
        if (request.Mutations is not { ValueKind: JsonValueKind.Array } list || list.GetArrayLength() > MaxMutations)
        {
            return Problems.Invalid("mutations", $"'mutations' must be an array of at most {MaxMutations} mutations.");
        }

        var options = json.Value.SerializerOptions;
        var mutations = list.EnumerateArray().Select(m => PushMutation.Parse(m, options)).ToList();
        var userId = principal.GetUserId();
        var now = clock.GetCurrentInstant();

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // The user's lock first: this user's pushes (and writes) run one at a time, so two pushes of the
        // same mutation_id cannot both find it new. Under the lock, the stored results are current.
        long position;
        var seen = new Dictionary<string, (byte[] Hash, PushResult Result)>(StringComparer.Ordinal);
        await using (var begin = await connection.QueryMultipleAsync(new CommandDefinition(PushChangesSql.Begin, new
        {
            userId,
            ids = mutations.Where(m => m.MutationId is not null).Select(m => m.MutationId!).Distinct().ToArray(),
        }, transaction, cancellationToken: ct)))
        {
            if (await begin.ReadSingleOrDefaultAsync<long?>() is not { } seq)
            {
                return Problems.NotFound("user not found");
            }

            position = seq;
            foreach (var stored in await begin.ReadAsync<(string MutationId, byte[] RequestHash, string Result)>())
            {
                seen[stored.MutationId] = (stored.RequestHash, JsonSerializer.Deserialize<PushResult>(stored.Result, options)!);
            }
        }

        var batch = new Batch(connection, transaction, userId, now, ct);
        var results = new PushResult[mutations.Count];
        var processed = new List<(string MutationId, byte[] Hash, PushResult Result)>();
        for (var i = 0; i < mutations.Count; i++)
        {
            var mutation = mutations[i];
            if (mutation.MutationId is not { } mutationId)
            {
                results[i] = PushResult.Rejected(null, mutation.Errors!);
                continue;
            }

            if (seen.TryGetValue(mutationId, out var first))
            {
                results[i] = first.Hash.AsSpan().SequenceEqual(mutation.Hash)
                    ? first.Result
                    : PushResult.Rejected(mutationId, new Dictionary<string, string[]>
                    {
                        ["mutation_id"] = ["'mutation_id' was already used for a different mutation; give each mutation its own id."],
                    });
                continue;
            }

            var result = mutation.Errors is { } errors ? PushResult.Rejected(mutationId, errors) : await batch.ApplyAsync(mutation);
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
                results = processed.Select(p => JsonSerializer.Serialize(p.Result, options)).ToArray(),
                now,
            }, transaction, cancellationToken: ct));
        }

        await transaction.CommitAsync(ct);
        foreach (var habitId in batch.StreakHabits)
        {
            streaks.TryEnqueue(userId, habitId);
        }

        return TypedResults.Ok(new PushChangesResponse(results, SyncCursor.At(Math.Max(position, batch.LastChange)).Encode(userId)));
    }

    /// <summary>
    /// Applies the batch's mutations one by one, each inside a savepoint: a mutation that changes
    /// nothing (conflict, not found, invalid, or a statement the database refuses) is rolled back to
    /// it, so it leaves no trace, not even a used change number, and the batch goes on.
    /// </summary>
    private sealed class Batch(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Instant now, CancellationToken ct)
    {
        private bool _savepoint;

        /// <summary>The change number of the batch's last effect (0 when none).</summary>
        public long LastChange { get; private set; }

        /// <summary>Habits whose entries changed (or which were deleted): queued for a streak recompute after commit.</summary>
        public HashSet<Guid> StreakHabits { get; } = [];

        public async Task<PushResult> ApplyAsync(PushMutation mutation)
        {
            // One round trip: the previous mutation's savepoint is released (kept) and a new one taken.
            await ExecuteAsync(_savepoint ? "RELEASE SAVEPOINT mutation; SAVEPOINT mutation" : "SAVEPOINT mutation");
            _savepoint = true;
            Outcome outcome;
            try
            {
                outcome = await WriteAsync(mutation);
            }
            catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal))
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
            switch (m.Op)
            {
                case PushOp.UpsertHabit:
                    var habit = m.IsCreate
                        ? await HabitWrites.CreateAsync(connection, transaction, userId, m.Id, m.Habit!, now, ct)
                        : await HabitWrites.UpdateAsync(connection, transaction, userId, m.Id, m.Version, m.Habit!, ct);
                    return FromHabit(id, habit);
                case PushOp.DeleteHabit:
                    return FromHabit(id, await HabitWrites.DeleteAsync(connection, transaction, userId, m.Id, m.IsCreate ? null : m.Version, ct));
                case PushOp.UpsertEntry:
                    var entry = m.IsCreate
                        ? await EntryWrites.CreateAsync(connection, transaction, userId, m.Id, m.Entry!.HabitId!.Value, m.Entry, ct)
                        : await EntryWrites.UpdateAsync(connection, transaction, userId, m.Id, m.Version, m.Entry!, ct);
                    return FromEntry(id, entry);
                default:
                    return FromEntry(id, await EntryWrites.DeleteAsync(connection, transaction, userId, m.Id, m.IsCreate ? null : m.Version, ct));
            }
        }

        private static Outcome FromHabit(string? id, HabitResult result) => result switch
        {
            HabitResult.Created { Record: var r } => new(PushResult.Applied(id, HabitResponse.From(r)), r.ChangeSeq, null),
            HabitResult.Applied { Record: var r } => new(PushResult.Applied(id, HabitResponse.From(r)), r.ChangeSeq, r.StreakDirty ? r.Id : null),
            HabitResult.Existing { Record: var r } => new(PushResult.Applied(id, HabitResponse.From(r)), null, null),
            HabitResult.AlreadyDeleted { Record: var r } => new(PushResult.Applied(id, HabitResponse.From(r)), null, null),
            HabitResult.Conflict { Current: var r } => new(PushResult.Conflict(id, HabitResponse.From(r)), null, null),
            HabitResult.Invalid invalid => new(PushResult.Rejected(id, invalid.Errors), null, null),
            _ => new(PushResult.NotFound(id), null, null),
        };

        private static Outcome FromEntry(string? id, EntryResult result) => result switch
        {
            EntryResult.Created { Record: var r } => new(PushResult.Applied(id, EntryResponse.From(r)), r.ChangeSeq, r.HabitId),
            EntryResult.Applied { Record: var r } => new(PushResult.Applied(id, EntryResponse.From(r)), r.ChangeSeq, r.HabitId),
            EntryResult.Existing { Record: var r } => new(PushResult.Applied(id, EntryResponse.From(r)), null, null),
            EntryResult.AlreadyDeleted { Record: var r } => new(PushResult.Applied(id, EntryResponse.From(r)), null, null),
            EntryResult.Conflict { Current: var r } => new(PushResult.Conflict(id, EntryResponse.From(r)), null, null),
            EntryResult.Invalid invalid => new(PushResult.Rejected(id, invalid.Errors), null, null),
            _ => new(PushResult.NotFound(id), null, null),
        };

        private Task ExecuteAsync(string sql) => connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: ct));

        /// <summary>What a mutation answered, and when it changed rows, their change number and the habit whose streaks it touched.</summary>
        private readonly record struct Outcome(PushResult Result, long? ChangeSeq, Guid? StreakHabit);
    }
}

/// <summary>The push envelope. <c>mutations</c> is read as raw JSON so that one malformed mutation rejects only itself.</summary>
internal sealed record PushChangesRequest
{
    public JsonElement? Mutations { get; init; }
}

/// <summary>One result per mutation, in request order, and the cursor of the push's last effect.</summary>
internal sealed record PushChangesResponse(PushResult[] Results, string Cursor);

/// <summary>A mutation's result: <c>record</c> for applied and conflict, <c>errors</c> for rejected.</summary>
internal sealed record PushResult(string? MutationId, string Status, object? Record, IDictionary<string, string[]>? Errors)
{
    public static PushResult Applied(string? mutationId, object record) => new(mutationId, "applied", record, null);

    public static PushResult Conflict(string? mutationId, object current) => new(mutationId, "conflict", current, null);

    public static PushResult NotFound(string? mutationId) => new(mutationId, "not_found", null, null);

    public static PushResult Rejected(string? mutationId, IDictionary<string, string[]> errors) => new(mutationId, "rejected", null, errors);
}

internal static class PushChangesSql
{
    // Two statements, one round trip: the lock (and the user's position), then the stored results, read after the lock.
    public const string Begin = """
        SELECT change_seq FROM users WHERE id = @userId FOR NO KEY UPDATE;
        SELECT mutation_id, request_hash, result::text FROM sync_mutations WHERE user_id = @userId AND mutation_id = ANY(@ids);
        """;

    public const string Remember = """
        INSERT INTO sync_mutations (user_id, mutation_id, request_hash, result, created_at)
        SELECT @userId, m.mutation_id, m.request_hash, m.result::json, @now
        FROM unnest(@ids::text[], @hashes::bytea[], @results::text[]) AS m (mutation_id, request_hash, result)
        ON CONFLICT (user_id, mutation_id) DO NOTHING
        """;
}
