using System.Security.Claims;
using System.Text.Json;
using Kanso.Api.Domain;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Time;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
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

                **Mutations.** `op` is `upsert_habit`, `delete_habit`, `upsert_entry` or `delete_entry`; `id` is the record's UUID; `data` holds the record's fields (as in POST/PUT; server-owned fields are ignored). `version` absent or 0 creates: `upsert_entry` then needs `data.habit_id` and `data.completion_date`; an `id` this account already has (live or deleted) changes nothing: `applied` with the stored copy when every field sent equals the stored value (a harmless repeat), else `conflict` with the stored copy, so an edit is never silently dropped (to change it, send its `version`). `version` ≥ 1 updates only if it is the stored version (a partial update, as PUT). A delete with `version` ≥ 1 is checked the same way; without it the delete is unconditional. A later mutation may use a habit created earlier in the same push.

                **Results.** `{mutation_id, status, record, errors}`: `applied` (`record` is the record as stored; a tombstone for a delete, also when it was already deleted), `conflict` (`record` is the server's current copy, a tombstone when deleted: rebase and retry with its version), `not_found` (no such record for this account, or for a new entry, no such live habit) or `rejected` (`errors`: `{field: [messages]}`; a malformed mutation, e.g. an unknown `op` or a missing `mutation_id` or `id`, is rejected too). Nothing of a mutation that is not `applied` is kept.

                **Exactly once.** Each `mutation_id` is remembered for the account (at least as long as tombstones, 30 days by default) with its result: sending it again with the same mutation (same `op`, `id`, `version` and values of the known `data` fields; unknown properties and number spelling do not count) applies nothing and answers the first result's `status` and `errors` with `replayed: true` and `record` as the record is now (a tombstone if deleted since, null once purged), so a push whose answer was lost can simply be retried and never brings a deleted record back. The same `mutation_id` with a different mutation is `rejected` with `errors.mutation_id`.

                **Read-your-writes.** `cursor` is the change position of the push's last effect (the account's current position when nothing changed). Pull until `has_more` is false and you have seen every effect of this push.
                """)
            .WithTags("Sync")
            .StampsSessionSync()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<PushChangesResponse>, ProblemHttpResult>> HandleAsync(
        PushChangesRequest request, HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, IClock clock, StreakQueue streaks, KansoMetrics metrics, IOptions<JsonOptions> json, CancellationToken ct)
    {
        if (request.Mutations is not { ValueKind: JsonValueKind.Array } list || list.GetArrayLength() > MaxMutations)
        {
            return Problems.Invalid("mutations", $"'mutations' must be an array of at most {MaxMutations} mutations.");
        }

        var options = json.Value.SerializerOptions;
        var protocol = ClientProtocol.Of(http);
        var mutations = list.EnumerateArray().Select(m => PushMutation.Parse(m, options, protocol)).ToList();
        var userId = principal.GetUserId();

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var batch = new PushChangesBatch(connection, transaction, userId, clock.GetCurrentInstant(), options, ct)
        {
            Zone = http.GetZone(),
            Protocol = protocol,
        };
        if (await batch.RunAsync(mutations) is not { } results)
        {
            return Problems.NotFound("user not found");
        }

        await transaction.CommitAsync(ct);
        metrics.Pushed(results.Select((r, i) => (r.Status, batch.Replayed.Contains(i))));
        foreach (var habitId in batch.StreakHabits)
        {
            streaks.TryEnqueue(userId, habitId);
        }

        return TypedResults.Ok(new PushChangesResponse(results, SyncCursor.At(batch.Position).Encode(userId)));
    }
}
