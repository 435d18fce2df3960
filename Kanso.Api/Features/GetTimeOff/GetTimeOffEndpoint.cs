using System.Security.Claims;
using Kanso.Api.Domain.Records;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.GetTimeOff;

internal static class GetTimeOffEndpoint
{
    public static RouteGroupBuilder MapGetTimeOff(this RouteGroupBuilder group)
    {
        group.MapGet("/time-off/{id:guid}", HandleAsync)
            .WithName("GetTimeOff")
            .WithSummary("One live time off record of the caller; 404 when it does not exist, is deleted or is another user's.")
            .WithTags("Time off")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<TimeOffResponse>, ProblemHttpResult>> HandleAsync(Guid id, ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var record = await TimeOffWrites.FindAsync(connection, null, principal.GetUserId(), id, ct);
        return record is null || record.IsDeleted ? Problems.NotFound("time off not found") : TypedResults.Ok(TimeOffResponse.From(record));
    }
}
