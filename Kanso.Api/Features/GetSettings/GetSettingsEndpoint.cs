using System.Security.Claims;
using Kanso.Api.Domain.Records;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.GetSettings;

internal static class GetSettingsEndpoint
{
    public static RouteGroupBuilder MapGetSettings(this RouteGroupBuilder group)
    {
        group.MapGet("/settings", HandleAsync)
            .WithName("GetSettings")
            .WithSummary("The caller's settings: {timezone, day_start, version}.")
            .WithTags("Settings");
        return group;
    }

    private static async Task<Results<Ok<SettingsResponse>, ProblemHttpResult>> HandleAsync(ClaimsPrincipal principal, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var settings = await SettingsWrites.FindAsync(connection, null, principal.GetUserId(), ct);
        return settings is null ? Problems.NotFound("user not found") : TypedResults.Ok(SettingsResponse.From(settings));
    }
}
