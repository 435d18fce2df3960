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
using Result = Kanso.Api.Infrastructure.Sync.TimestampSyncResult<Kanso.Api.Infrastructure.Records.EntryRecord>;

namespace Kanso.Api.Features.SyncEntriesLegacy;

internal static class SyncEntriesLegacyEndpoint
{
    public static RouteGroupBuilder MapSyncEntriesLegacy(this RouteGroupBuilder group)
    {
        // A literal segment, so it never meets /entries/{id:guid} (which only matches UUIDs anyway).
        group.MapGet("/entries/sync", HandleAsync)
            .WithName("SyncEntriesLegacy")
            .WithSummary("The earlier API's entry sync: every entry (tombstones included) changed at or after `since`, oldest change first, and the `timestamp` to send as `since` next time.")
            .WithDescription("""
                Kept for earlier apps; new clients use `GET /sync/pull`. `since` is an RFC 3339 instant with an offset; without it every entry is returned, tombstones included (so a client with an old local copy also learns of deletions). A bad instant is 400.

                Nothing is missed: `timestamp` is read on the server's clock after every write in progress has committed, and every later write is stamped after it. The comparison is inclusive, so a record changed exactly at `timestamp` may come back again; apply it idempotently.

                410 `resync required` when a tombstone changed at or after `since` has been purged (tombstones are kept for the retention, 30 days by default): sync again without `since` and replace the local copy.
                """)
            .WithTags("Entries")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone);
        return group;
    }

    private static async Task<Results<Ok<SyncEntriesLegacyResponse>, ProblemHttpResult>> HandleAsync(
        [FromQuery(Name = "since")] string? sinceText, ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct)
    {
        Instant? since = null;
        if (!string.IsNullOrEmpty(sinceText))
        {
            if (!WireFormat.TryParseInstant(sinceText, out var parsed))
            {
                return Problems.Invalid("since", "'since' must be an RFC 3339 instant with an offset, e.g. 2026-03-08T06:59:59.123456Z.");
            }

            since = parsed;
        }

        var result = await TimestampSync.ReadAsync<EntryRecord>(
            db, principal.GetUserId(), since, since is null ? SyncEntriesLegacySql.All : SyncEntriesLegacySql.Since, ct);
        return result switch
        {
            Result.Changes changes => TypedResults.Ok(new SyncEntriesLegacyResponse(changes.Records.ConvertAll(EntryResponse.From), changes.Timestamp)),
            Result.ResyncRequired => Problems.Create(StatusCodes.Status410Gone, "resync required",
                "Deletions since 'since' are older than the tombstone retention: sync again without 'since' and replace the local copy."),
            _ => Problems.NotFound("user not found"),
        };
    }
}

/// <summary>Entries changed since the instant asked for (tombstones have <c>deleted_at</c>), and the instant to ask from next.</summary>
internal sealed record SyncEntriesLegacyResponse(List<EntryResponse> Changes, Instant Timestamp);

internal static class SyncEntriesLegacySql
{
    public const string Since = $"SELECT {EntrySql.Columns} FROM habit_entries WHERE user_id = @userId AND updated_at >= @since ORDER BY updated_at, id";

    public const string All = $"SELECT {EntrySql.Columns} FROM habit_entries WHERE user_id = @userId ORDER BY updated_at, id";
}
