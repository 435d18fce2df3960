using System.Security.Claims;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Records;
using Kanso.Api.Infrastructure.Sync;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Npgsql;
using Result = Kanso.Api.Infrastructure.Sync.TimestampSyncResult<Kanso.Api.Infrastructure.Records.HabitRecord>;

namespace Kanso.Api.Features.SyncHabitsLegacy;

internal static class SyncHabitsLegacyEndpoint
{
    public static RouteGroupBuilder MapSyncHabitsLegacy(this RouteGroupBuilder group)
    {
        // A literal segment, so it never meets /habits/{id:guid} (which only matches UUIDs anyway).
        group.MapGet("/habits/sync", HandleAsync)
            .WithName("SyncHabitsLegacy")
            .WithSummary("The earlier API's habit sync: every habit (tombstones included) changed at or after `last_sync`, oldest change first, and the `timestamp` to send as `last_sync` next time.")
            .WithDescription("""
                Kept for earlier apps; new clients use `GET /sync/pull`. `last_sync` is an RFC 3339 instant with an offset; without it every habit is returned, tombstones included (so a client with an old local copy also learns of deletions). A bad instant is 400.

                Nothing is missed: `timestamp` is read on the server's clock after every write in progress has committed, and every later write is stamped after it. The comparison is inclusive, so a record changed exactly at `timestamp` may come back again; apply it idempotently.

                410 `resync required` when a tombstone changed at or after `last_sync` has been purged (tombstones are kept for the retention, 30 days by default): sync again without `last_sync` and replace the local copy.
                """)
            .WithTags("Habits")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone);
        return group;
    }

    private static async Task<Results<Ok<SyncHabitsLegacyResponse>, ProblemHttpResult>> HandleAsync(
        [FromQuery(Name = "last_sync")] string? lastSync, ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct)
    {
        Instant? since = null;
        if (!string.IsNullOrEmpty(lastSync))
        {
            if (!WireFormat.TryParseInstant(lastSync, out var parsed))
            {
                return Problems.Invalid("last_sync", "'last_sync' must be an RFC 3339 instant with an offset, e.g. 2026-03-08T06:59:59.123456Z.");
            }

            since = parsed;
        }

        var result = await TimestampSync.ReadAsync<HabitRecord>(
            db, principal.GetUserId(), since, since is null ? SyncHabitsLegacySql.All : SyncHabitsLegacySql.Since, ct);
        return result switch
        {
            Result.Changes changes => TypedResults.Ok(new SyncHabitsLegacyResponse(changes.Records.ConvertAll(HabitResponse.From), changes.Timestamp)),
            Result.ResyncRequired => Problems.Create(StatusCodes.Status410Gone, "resync required",
                "Deletions since 'last_sync' are older than the tombstone retention: sync again without 'last_sync' and replace the local copy."),
            _ => Problems.NotFound("user not found"),
        };
    }
}

/// <summary>Habits changed since the instant asked for (tombstones have <c>deleted_at</c>), and the instant to ask from next.</summary>
internal sealed record SyncHabitsLegacyResponse(List<HabitResponse> Changes, Instant Timestamp);

internal static class SyncHabitsLegacySql
{
    public const string Since = $"SELECT {HabitSql.Columns} FROM habits WHERE user_id = @userId AND updated_at >= @since ORDER BY updated_at, id";

    public const string All = $"SELECT {HabitSql.Columns} FROM habits WHERE user_id = @userId ORDER BY updated_at, id";
}
