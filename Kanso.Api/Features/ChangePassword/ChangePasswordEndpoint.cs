using System.Security.Claims;
using Dapper;
using FluentValidation;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.RateLimiting;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.ChangePassword;

internal static class ChangePasswordEndpoint
{
    public static RouteGroupBuilder MapChangePassword(this RouteGroupBuilder group)
    {
        group.MapPut("/auth/password", HandleAsync)
            .WithName("ChangePassword")
            .WithSummary("Changes the password and signs out every other device of the account; this one stays signed in.")
            .WithTags("Auth")
            .RequirePerEmailRateLimit()
            .Validate<ChangePasswordRequest>();
        return group;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(
        ChangePasswordRequest request, ClaimsPrincipal principal, NpgsqlDataSource db, Passwords passwords, DeviceSessions sessions, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // The user's row lock first (as every writer), then the login, keyed by email (another shard on Citus).
        var email = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(ChangePasswordSql.LockUser, new { userId }, transaction, cancellationToken: ct));
        var stored = email is null ? null : await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            ChangePasswordSql.LockLogin, new { email, userId }, transaction, cancellationToken: ct));
        var (ok, _) = passwords.Verify(stored, request.CurrentPassword!);
        if (stored is null || !ok)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "invalid credentials", "The current password is wrong.");
        }

        await connection.ExecuteAsync(new CommandDefinition(ChangePasswordSql.Update, new { email, userId, hash = passwords.Hash(request.NewPassword!) }, transaction, cancellationToken: ct));
        var revoked = await sessions.RevokeOthersAsync(connection, transaction, userId, principal.GetSessionId(), ct);
        await transaction.CommitAsync(ct);
        foreach (var sessionId in revoked)
        {
            sessions.Evict(userId, sessionId);
        }

        return TypedResults.NoContent();
    }
}

internal sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

internal sealed class ChangePasswordValidator : AbstractValidator<ChangePasswordRequest>
{
    public ChangePasswordValidator()
    {
        RuleFor(x => x.CurrentPassword).NotEmpty().MaximumLength(1024);
        RuleFor(x => x.NewPassword).NotEmpty()
            .Must(p => p is not null && StringRules.CodePoints(p) is >= 8 and <= 128)
            .WithMessage("'new_password' must be 8 to 128 characters.");
    }
}

internal static class ChangePasswordSql
{
    public const string LockUser = "SELECT email FROM users WHERE id = @userId FOR NO KEY UPDATE";

    public const string LockLogin = "SELECT password_hash FROM logins WHERE email = @email AND user_id = @userId FOR UPDATE";

    public const string Update = "UPDATE logins SET password_hash = @hash WHERE email = @email AND user_id = @userId";
}
