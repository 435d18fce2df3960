using System.Security.Claims;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Npgsql;

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

    private static Task<Results<Ok<SyncEntriesLegacyResponse>, ProblemHttpResult>> HandleAsync(
        [FromQuery(Name = "since")] string? sinceText, HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct) =>
        TimestampSync.AnswerAsync<EntryRecord, SyncEntriesLegacyResponse>(
            "since", sinceText, db, principal.GetUserId(), SyncEntriesLegacySql.All, SyncEntriesLegacySql.Since,
            (records, timestamp) => new SyncEntriesLegacyResponse(records.ConvertAll(r => EntryResponse.From(r, ClientProtocol.Of(http))), timestamp), ct);
}

/// <summary>Entries changed since the instant asked for (tombstones have <c>deleted_at</c>), and the instant to ask from next.</summary>
internal sealed record SyncEntriesLegacyResponse(List<EntryResponse> Changes, Instant Timestamp);

internal static class SyncEntriesLegacySql
{
    public const string Since = $"SELECT {EntrySql.Columns} FROM habit_entries WHERE user_id = @userId AND updated_at >= @since ORDER BY updated_at, id";

    public const string All = $"SELECT {EntrySql.Columns} FROM habit_entries WHERE user_id = @userId ORDER BY updated_at, id";
}
