using System.Security.Claims;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Npgsql;

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

    private static Task<Results<Ok<SyncHabitsLegacyResponse>, ProblemHttpResult>> HandleAsync(
        [FromQuery(Name = "last_sync")] string? lastSync, ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct) =>
        TimestampSync.AnswerAsync<HabitRecord, SyncHabitsLegacyResponse>(
            "last_sync", lastSync, db, principal.GetUserId(), SyncHabitsLegacySql.All, SyncHabitsLegacySql.Since,
            (records, timestamp) => new SyncHabitsLegacyResponse(records.ConvertAll(HabitResponse.From), timestamp), ct);
}

/// <summary>Habits changed since the instant asked for (tombstones have <c>deleted_at</c>), and the instant to ask from next.</summary>
internal sealed record SyncHabitsLegacyResponse(List<HabitResponse> Changes, Instant Timestamp);

internal static class SyncHabitsLegacySql
{
    public const string Since = $"SELECT {HabitSql.Columns} FROM habits WHERE user_id = @userId AND updated_at >= @since ORDER BY updated_at, id";

    public const string All = $"SELECT {HabitSql.Columns} FROM habits WHERE user_id = @userId ORDER BY updated_at, id";
}
