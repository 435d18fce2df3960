using System.Security.Claims;
using Dapper;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.ListHabits;

internal static class ListHabitsEndpoint
{
    public static RouteGroupBuilder MapListHabits(this RouteGroupBuilder group)
    {
        group.MapGet("/habits", HandleAsync)
            .WithName("ListHabits")
            .WithSummary("The caller's live habits (archived ones included, deleted ones not) as a bare array, by sort_order, then created_at.")
            .WithTags("Habits")
            .WithChangeETag();
        return group;
    }

    private static async Task<Ok<HabitResponse[]>> HandleAsync(ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var habits = await connection.QueryAsync<HabitRecord>(new CommandDefinition(ListHabitsSql.LiveHabits, new { userId = principal.GetUserId() }, cancellationToken: ct));
        return TypedResults.Ok(habits.Select(HabitResponse.From).ToArray());
    }
}

internal static class ListHabitsSql
{
    public const string LiveHabits = $"""
        SELECT {HabitSql.Columns} FROM habits
        WHERE user_id = @userId AND deleted_at IS NULL
        ORDER BY sort_order, created_at, id
        """;
}
