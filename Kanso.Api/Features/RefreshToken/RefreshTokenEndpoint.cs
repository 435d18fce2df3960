using FluentValidation;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.RateLimiting;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Kanso.Api.Features.RefreshToken;

internal static class RefreshTokenEndpoint
{
    public static RouteGroupBuilder MapRefreshToken(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/refresh", HandleAsync)
            .WithName("RefreshToken")
            .WithSummary("Spends a refresh token for a new access token and a new refresh token of the same session.")
            .WithDescription("The same spent token sent again within the grace (Jwt__RefreshGrace, 30 s by default) answers the same pair; " +
                "sent later it is reuse, and the whole session is revoked (401 `refresh token reused`). " +
                "401 `refresh token expired` past `refresh_expires_at`; 401 `invalid refresh token` otherwise.")
            .WithTags("Auth")
            .AllowAnonymous()
            .RequirePerRefreshSessionRateLimit()
            .Validate<RefreshTokenRequest>();
        return group;
    }

    private static async Task<Results<Ok<RefreshTokenResponse>, ProblemHttpResult>> HandleAsync(
        RefreshTokenRequest request, DeviceSessions sessions, TokenIssuer tokens, CancellationToken ct)
    {
        if (!tokens.CanIssue)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "refresh unavailable",
                "This instance only verifies tokens (Jwt__PrivateKeyPem is not set); refresh through an instance that issues them.");
        }

        var (outcome, pair) = await sessions.RefreshAsync(request.RefreshToken!, ct);
        return outcome switch
        {
            RefreshOutcome.Refreshed => TypedResults.Ok(new RefreshTokenResponse(pair!.Token, pair.ExpiresAt, pair.RefreshToken, pair.RefreshExpiresAt, pair.SessionId)),
            RefreshOutcome.Expired => Problems.Create(StatusCodes.Status401Unauthorized, "refresh token expired", "The refresh token has expired and its session has ended; log in again."),
            RefreshOutcome.Reused => Problems.Create(StatusCodes.Status401Unauthorized, "refresh token reused",
                "This refresh token was already spent, so a copy of it may exist: its session has been signed out everywhere. Log in again."),
            _ => Problems.Create(StatusCodes.Status401Unauthorized, "invalid refresh token", "The refresh token is malformed, unknown, or its session was signed out; log in again."),
        };
    }
}

internal sealed record RefreshTokenRequest(string? RefreshToken);

internal sealed record RefreshTokenResponse(string Token, Instant ExpiresAt, string RefreshToken, Instant RefreshExpiresAt, Guid SessionId);

internal sealed class RefreshTokenValidator : AbstractValidator<RefreshTokenRequest>
{
    public RefreshTokenValidator()
    {
        RuleFor(x => x.RefreshToken).NotEmpty().MaximumLength(1024);
    }
}
