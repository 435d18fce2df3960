using System.Security.Claims;
using Dapper;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.GetEntry;

internal static class GetEntryEndpoint
{
    public static RouteGroupBuilder MapGetEntry(this RouteGroupBuilder group)
    {
        group.MapGet("/entries/{id:guid}", HandleAsync)
            .WithName("GetEntry")
            .WithSummary("One live entry of the caller; 404 when it does not exist, is deleted or is another user's (a non-UUID id is a 404 too).")
            .WithTags("Entries")
            .WithChangeETag()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<EntryResponse>, ProblemHttpResult>> HandleAsync(Guid id, HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var entry = await connection.QuerySingleOrDefaultAsync<EntryRecord>(new CommandDefinition(GetEntrySql.LiveEntry, new { userId = principal.GetUserId(), id }, cancellationToken: ct));
        // Before protocol 2 a skip is a tombstone, and tombstones are not found.
        return entry is null || (entry.IsSkip && ClientProtocol.Of(http) < 2) ? Problems.NotFound("entry not found") : TypedResults.Ok(EntryResponse.From(entry));
    }
}

internal static class GetEntrySql
{
    public const string LiveEntry = $"SELECT {EntrySql.Columns} FROM habit_entries WHERE user_id = @userId AND id = @id AND deleted_at IS NULL";
}
