using System.Security.Claims;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using EntryResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.EntryRecord>;

namespace Kanso.Api.Features.DeleteEntry;

internal static class DeleteEntryEndpoint
{
    public static RouteGroupBuilder MapDeleteEntry(this RouteGroupBuilder group)
    {
        group.MapDelete("/entries/{id:guid}", HandleAsync)
            .WithName("DeleteEntry")
            .WithSummary("Soft-deletes an entry: 204. Deleting a deleted entry is 204 again (whatever `version`). With `?version=N`, a live entry at another version is 409 with `current`.")
            .WithTags("Entries")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(
        Guid id, [FromQuery(Name = "version")] string? version, ClaimsPrincipal principal, NpgsqlDataSource db, StreakQueue streaks, CancellationToken ct)
    {
        if (!RecordQuery.TryParseVersion(version, out var expected))
        {
            return Problems.Invalid("version", RecordQuery.VersionMessage);
        }

        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var result = await EntryWrites.DeleteAsync(connection, transaction, userId, id, expected, ct);
        if (result.Changed)
        {
            await transaction.CommitAsync(ct);
            streaks.EnqueueAfterCommit(userId, result);
        }

        return result switch
        {
            EntryResult.Applied or EntryResult.AlreadyDeleted => TypedResults.NoContent(),
            EntryResult.Conflict conflict => Problems.Conflict(EntryResponse.From(conflict.Current)),
            _ => Problems.NotFound("entry not found"),
        };
    }
}
