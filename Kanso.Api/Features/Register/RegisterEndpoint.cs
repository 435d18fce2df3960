using Dapper;
using FluentValidation;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.Register;

internal static class RegisterEndpoint
{
    public static RouteGroupBuilder MapRegister(this RouteGroupBuilder group)
    {
        group.MapPost("/auth/register", HandleAsync)
            .WithName("Register")
            .WithSummary("Creates an account. The email is trimmed and lower-cased; 409 when it is taken.")
            .WithTags("Auth")
            .AllowAnonymous()
            .Validate<RegisterRequest>()
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Created<RegisterResponse>, ProblemHttpResult>> HandleAsync(
        RegisterRequest request, NpgsqlDataSource db, Passwords passwords, CancellationToken ct)
    {
        var email = EmailAddress.Normalize(request.Email!);
        var hash = passwords.Hash(request.Password!);
        var id = Guid.CreateVersion7();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // The login claims the email (unique cluster-wide: logins is keyed by email); the user row
        // is written in the same transaction, so neither exists without the other.
        var claimed = await connection.ExecuteAsync(new CommandDefinition(
            RegisterSql.InsertLogin, new { id, email, hash }, transaction, cancellationToken: ct));
        if (claimed == 0)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "email already registered", "An account with this email already exists.");
        }

        await connection.ExecuteAsync(new CommandDefinition(RegisterSql.InsertUser, new { id, email }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return TypedResults.Created((string?)null, new RegisterResponse(id, email));
    }
}

internal sealed record RegisterRequest(string? Email, string? Password);

internal sealed record RegisterResponse(Guid Id, string Email);

internal sealed class RegisterValidator : AbstractValidator<RegisterRequest>
{
    public RegisterValidator()
    {
        RuleFor(x => x.Email).NotEmpty().Must(EmailAddress.IsValid).WithMessage("'email' must be a valid email address.");
        RuleFor(x => x.Password).NotEmpty()
            .Must(p => p is not null && StringRules.CodePoints(p) is >= 8 and <= 128)
            .WithMessage("'password' must be 8 to 128 characters.");
    }
}

internal static class RegisterSql
{
    public const string InsertLogin = """
        INSERT INTO logins (email, user_id, password_hash)
        VALUES (@email, @id, @hash)
        ON CONFLICT (email) DO NOTHING
        """;

    public const string InsertUser = "INSERT INTO users (id, email) VALUES (@id, @email)";
}
