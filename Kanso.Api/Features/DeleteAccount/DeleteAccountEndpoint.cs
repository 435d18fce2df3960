using System.Security.Claims;
using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.DeleteAccount;

internal static class DeleteAccountEndpoint
{
    public static RouteGroupBuilder MapDeleteAccount(this RouteGroupBuilder group)
    {
        group.MapDelete("/auth/user", HandleAsync)
            .WithName("DeleteAccount")
            .WithSummary("Deletes the caller's account and all of their data; their tokens stop working at once.")
            .WithTags("Auth");
        return group;
    }

    private static async Task<Ok<DeleteAccountResponse>> HandleAsync(ClaimsPrincipal principal, NpgsqlDataSource db, KnownUsers users, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // Rows go with the user through ON DELETE CASCADE on every (user_id, ...) key; the login,
        // keyed by email (another shard on Citus), goes in the same transaction.
        var email = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(DeleteAccountSql.DeleteUser, new { userId }, transaction, cancellationToken: ct));
        if (email is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(DeleteAccountSql.DeleteLogin, new { email, userId }, transaction, cancellationToken: ct));
        }

        await transaction.CommitAsync(ct);
        users.Forget(userId);
        await ChangeHints.AccountDeletedAsync(connection, userId, ct);
        return TypedResults.Ok(new DeleteAccountResponse("deleted", userId));
    }
}

internal sealed record DeleteAccountResponse(string Status, Guid UserId);

internal static class DeleteAccountSql
{
    public const string DeleteUser = "DELETE FROM users WHERE id = @userId RETURNING email";

    public const string DeleteLogin = "DELETE FROM logins WHERE email = @email AND user_id = @userId";
}
