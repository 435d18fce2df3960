using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Kanso.Api.Infrastructure.Auth;

internal static class ClaimsPrincipalExtensions
{
    /// <summary>The caller's id; JwtBearer has already checked the token and that the user exists.</summary>
    public static Guid GetUserId(this ClaimsPrincipal principal) =>
        Guid.Parse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? throw new InvalidOperationException("No subject on an authenticated principal."));
}
