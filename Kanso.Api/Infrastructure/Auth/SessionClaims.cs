using System.Security.Claims;

namespace Kanso.Api.Infrastructure.Auth;

internal static class SessionClaims
{
    /// <summary>The device session of the caller's access token; null for tokens issued before sessions existed.</summary>
    public static Guid? GetSessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(TokenIssuer.SessionClaim), out var id) ? id : null;
}
