using System.Security.Claims;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kanso.Api.Features.ValidateToken;

internal static class ValidateTokenEndpoint
{
    public static RouteGroupBuilder MapValidateToken(this RouteGroupBuilder group)
    {
        group.MapGet("/auth/validate", Handle)
            .WithName("ValidateToken")
            .WithSummary("200 when the bearer token is valid and its account exists.")
            .WithTags("Auth");
        return group;
    }

    private static Ok<ValidateTokenResponse> Handle(ClaimsPrincipal user) =>
        TypedResults.Ok(new ValidateTokenResponse("valid", user.GetUserId()));
}

internal sealed record ValidateTokenResponse(string Status, Guid UserId);
