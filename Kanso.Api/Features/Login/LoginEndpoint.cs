using Dapper;
using FluentValidation;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.RateLimiting;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Features.Login;

internal static class LoginEndpoint
{
    public static RouteGroupBuilder MapLogin(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/login", HandleAsync)
            .WithName("Login")
            .WithSummary("Exchanges email and password for an access token (JWT) and a refresh token of a new device session. Any bad credential is the same 401, in similar time.")
            .WithTags("Auth")
            .AllowAnonymous()
            .RequirePerEmailRateLimit()
            .Validate<LoginRequest>();
        return group;
    }

    private static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> HandleAsync(
        LoginRequest request, NpgsqlDataSource db, Passwords passwords, TokenIssuer tokens, DeviceSessions sessions, CancellationToken ct)
    {
        if (!tokens.CanIssue)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "login unavailable",
                "This instance only verifies tokens (Jwt__PrivateKeyPem is not set); log in through an instance that issues them.");
        }

        var email = EmailAddress.Normalize(request.Email!);
        await using var connection = await db.OpenConnectionAsync(ct);
        var user = await connection.QuerySingleOrDefaultAsync<LoginUser>(new CommandDefinition(LoginSql.FindUser, new { email }, cancellationToken: ct));

        // Verify even when the email is unknown (against a dummy hash), so timing tells nothing.
        var (ok, rehash) = passwords.Verify(user?.PasswordHash, request.Password!);
        if (user is null || !ok)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "invalid credentials", "The email or password is wrong.");
        }

        if (rehash)
        {
            await connection.ExecuteAsync(new CommandDefinition(LoginSql.UpdateHash, new { email, hash = passwords.Hash(request.Password!) }, cancellationToken: ct));
        }

        var session = await sessions.OpenAsync(user.Id, user.Email, request.DeviceName?.Trim() is { Length: > 0 } name ? name : null, ct);
        return TypedResults.Ok(new LoginResponse(
            session.Token, session.ExpiresAt, new LoginUserResponse(user.Id, user.Email), session.RefreshToken, session.RefreshExpiresAt, session.SessionId));
    }

    private sealed record LoginUser(Guid Id, string Email, string PasswordHash);
}

internal sealed record LoginRequest(string? Email, string? Password, string? DeviceName = null);

internal sealed record LoginResponse(string Token, Instant ExpiresAt, LoginUserResponse User, string RefreshToken, Instant RefreshExpiresAt, Guid SessionId);

internal sealed record LoginUserResponse(Guid Id, string Email);

internal sealed class LoginValidator : AbstractValidator<LoginRequest>
{
    public LoginValidator()
    {
        RuleFor(x => x.Email).NotEmpty().MaximumLength(320);
        RuleFor(x => x.Password).NotEmpty().MaximumLength(1024);
        RuleFor(x => x.DeviceName).Must(d => d is null || StringRules.CodePoints(d.Trim()) <= 100).WithMessage("'device_name' must be at most 100 characters.");
    }
}

internal static class LoginSql
{
    // One row on one shard: logins is keyed (and on Citus distributed) by email.
    public const string FindUser = "SELECT user_id AS id, email, password_hash FROM logins WHERE email = @email";

    public const string UpdateHash = "UPDATE logins SET password_hash = @hash WHERE email = @email";
}
