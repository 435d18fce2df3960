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
        await using var connection = await db.OpenConnectionAsync(ct);
        var id = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(
            RegisterSql.InsertUser, new { id = Guid.CreateVersion7(), email, hash }, cancellationToken: ct));
        return id is null
            ? Problems.Create(StatusCodes.Status409Conflict, "email already registered", "An account with this email already exists.")
            : TypedResults.Created((string?)null, new RegisterResponse(id.Value, email));
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
    public const string InsertUser = """
        INSERT INTO users (id, email, password_hash)
        VALUES (@id, @email, @hash)
        ON CONFLICT (email) DO NOTHING
        RETURNING id
        """;
}
