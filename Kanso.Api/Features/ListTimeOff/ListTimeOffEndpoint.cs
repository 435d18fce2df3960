using System.Security.Claims;
using Dapper;
using Kanso.Api.Domain.Records;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.ListTimeOff;

internal static class ListTimeOffEndpoint
{
    public static RouteGroupBuilder MapListTimeOff(this RouteGroupBuilder group)
    {
        group.MapGet("/time-off", HandleAsync)
            .WithName("ListTimeOff")
            .WithSummary("The caller's live time off, by start_date, as a bare array.")
            .WithTags("Time off");
        return group;
    }

    private static async Task<Ok<TimeOffResponse[]>> HandleAsync(ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var records = await connection.QueryAsync<TimeOffRecord>(new CommandDefinition(TimeOffSql.Live, new { userId = principal.GetUserId() }, cancellationToken: ct));
        return TypedResults.Ok(records.Select(TimeOffResponse.From).ToArray());
    }
}
