using System.Security.Claims;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kanso.Api.Features.Logout;

internal static class LogoutEndpoint
{
    public static RouteGroupBuilder MapLogout(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/logout", HandleAsync)
            .WithName("Logout")
            .WithSummary("Signs this device out: the caller's session, its refresh token and its access tokens stop working at once.")
            .WithTags("Auth");
        return group;
    }

    private static async Task<NoContent> HandleAsync(ClaimsPrincipal principal, DeviceSessions sessions, CancellationToken ct)
    {
        if (principal.GetSessionId() is { } sessionId)
        {
            await sessions.RevokeAsync(principal.GetUserId(), sessionId, ct);
        }

        return TypedResults.NoContent();
    }
}
