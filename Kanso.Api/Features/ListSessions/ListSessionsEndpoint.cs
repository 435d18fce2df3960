using System.Security.Claims;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Kanso.Api.Features.ListSessions;

internal static class ListSessionsEndpoint
{
    public static RouteGroupBuilder MapListSessions(this RouteGroupBuilder group)
    {
        group.MapGet("/auth/sessions", HandleAsync)
            .WithName("ListSessions")
            .WithSummary("The account's signed-in devices, newest first; `current` marks the caller's own session.")
            .WithTags("Auth");
        return group;
    }

    private static async Task<Ok<SessionResponse[]>> HandleAsync(ClaimsPrincipal principal, DeviceSessions sessions, CancellationToken ct)
    {
        var current = principal.GetSessionId();
        var list = await sessions.ListAsync(principal.GetUserId(), ct);
        return TypedResults.Ok(list.Select(s => new SessionResponse(s.Id, s.DeviceName, s.CreatedAt, s.LastUsedAt, s.LastSyncAt, s.Id == current)).ToArray());
    }
}

internal sealed record SessionResponse(Guid Id, string? DeviceName, Instant CreatedAt, Instant LastUsedAt, Instant? LastSyncAt, bool Current);
