using System.Security.Claims;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Background;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Records;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using EntryResult = Kanso.Api.Infrastructure.Records.WriteResult<Kanso.Api.Infrastructure.Records.EntryRecord>;

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
        if (result is EntryResult.Applied { Record: var tombstone })
        {
            await transaction.CommitAsync(ct);
            streaks.TryEnqueue(userId, tombstone.HabitId);
        }

        return result switch
        {
            EntryResult.Applied or EntryResult.AlreadyDeleted => TypedResults.NoContent(),
            EntryResult.Conflict conflict => Problems.Conflict(EntryResponse.From(conflict.Current)),
            _ => Problems.NotFound("entry not found"),
        };
    }
}
