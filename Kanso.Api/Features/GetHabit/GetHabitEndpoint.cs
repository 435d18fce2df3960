using System.Security.Claims;
using Dapper;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.GetHabit;

internal static class GetHabitEndpoint
{
    public static RouteGroupBuilder MapGetHabit(this RouteGroupBuilder group)
    {
        group.MapGet("/habits/{id:guid}", HandleAsync)
            .WithName("GetHabit")
            .WithSummary("One live habit of the caller; 404 when it does not exist, is deleted or is another user's (a non-UUID id is a 404 too).")
            .WithTags("Habits")
            .WithChangeETag()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<HabitResponse>, ProblemHttpResult>> HandleAsync(Guid id, ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var habit = await connection.QuerySingleOrDefaultAsync<HabitRecord>(new CommandDefinition(GetHabitSql.LiveHabit, new { userId = principal.GetUserId(), id }, cancellationToken: ct));
        return habit is null ? Problems.NotFound("habit not found") : TypedResults.Ok(HabitResponse.From(habit));
    }
}

internal static class GetHabitSql
{
    public const string LiveHabit = $"SELECT {HabitSql.Columns} FROM habits WHERE user_id = @userId AND id = @id AND deleted_at IS NULL";
}
