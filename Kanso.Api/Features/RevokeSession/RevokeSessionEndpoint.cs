using System.Security.Claims;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kanso.Api.Features.RevokeSession;

internal static class RevokeSessionEndpoint
{
    public static RouteGroupBuilder MapRevokeSession(this RouteGroupBuilder group)
    {
        group.MapDelete("/auth/sessions/{id:guid}", HandleAsync)
            .WithName("RevokeSession")
            .WithSummary("Signs a device out: its refresh token and access tokens stop working at once, on every instance.")
            .WithTags("Auth")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(Guid id, ClaimsPrincipal principal, DeviceSessions sessions, CancellationToken ct) =>
        await sessions.RevokeAsync(principal.GetUserId(), id, ct)
            ? TypedResults.NoContent()
            : Problems.NotFound("session not found");
}
