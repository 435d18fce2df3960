using System.Security.Claims;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using HabitResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.HabitRecord>;

namespace Kanso.Api.Features.DeleteHabit;

internal static class DeleteHabitEndpoint
{
    public static RouteGroupBuilder MapDeleteHabit(this RouteGroupBuilder group)
    {
        group.MapDelete("/habits/{id:guid}", HandleAsync)
            .WithName("DeleteHabit")
            .WithSummary("Soft-deletes a habit and tombstones its entries: 204. Deleting a deleted habit is 204 again (whatever `version`). With `?version=N`, a live habit at another version is 409 with `current`.")
            .WithTags("Habits")
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
        var result = await HabitWrites.DeleteAsync(connection, transaction, userId, id, expected, ct);
        if (result.Changed)
        {
            await transaction.CommitAsync(ct);
            streaks.EnqueueAfterCommit(userId, result);
        }

        return result switch
        {
            HabitResult.Applied or HabitResult.AlreadyDeleted => TypedResults.NoContent(),
            HabitResult.Conflict conflict => Problems.Conflict(HabitResponse.From(conflict.Current)),
            _ => Problems.NotFound("habit not found"),
        };
    }
}
