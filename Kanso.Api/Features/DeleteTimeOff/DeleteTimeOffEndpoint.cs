using System.Security.Claims;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using TimeOffResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.TimeOffRecord>;

namespace Kanso.Api.Features.DeleteTimeOff;

internal static class DeleteTimeOffEndpoint
{
    public static RouteGroupBuilder MapDeleteTimeOff(this RouteGroupBuilder group)
    {
        group.MapDelete("/time-off/{id:guid}", HandleAsync)
            .WithName("DeleteTimeOff")
            .WithSummary("Soft-deletes time off: 204 (again 204 when already deleted). With `?version=N`, live time off at another version is 409 with `current`.")
            .WithTags("Time off")
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
        var result = await TimeOffWrites.DeleteAsync(connection, transaction, userId, id, expected, ct);
        if (result is TimeOffResult.Applied { Record: var record })
        {
            await transaction.CommitAsync(ct);
            foreach (var habitId in record.DirtyHabits)
            {
                streaks.TryEnqueue(userId, habitId);
            }
        }

        return result switch
        {
            TimeOffResult.Applied or TimeOffResult.AlreadyDeleted => TypedResults.NoContent(),
            TimeOffResult.Conflict conflict => Problems.Conflict(TimeOffResponse.From(conflict.Current)),
            _ => Problems.NotFound("time off not found"),
        };
    }
}
