using System.Security.Claims;
using FluentValidation;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Time;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using EntryResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.EntryRecord>;

namespace Kanso.Api.Features.UpdateEntry;

internal static class UpdateEntryEndpoint
{
    public static RouteGroupBuilder MapUpdateEntry(this RouteGroupBuilder group)
    {
        group.MapPut("/entries/{id:guid}", HandleAsync)
            .WithName("UpdateEntry")
            .WithSummary("Partially updates an entry's value, notes, completion_date, local_date and kind when `version` is the stored one: 200 with version + 1. A stale version, or a deleted entry, is 409 with `current` (a tombstone when deleted).")
            .WithDescription("A property left out is unchanged; `null` is a 400 for every entry field. `habit_id` cannot be changed (it is ignored). 404 when the entry is not the caller's.")
            .WithTags("Entries")
            .Validate<UpdateEntryRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Ok<EntryResponse>, ProblemHttpResult>> HandleAsync(
        Guid id, UpdateEntryRequest request, HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, StreakQueue streaks, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var result = await EntryWrites.UpdateAsync(connection, transaction, userId, id, request.Version!.Value, request, ct, http.GetZone());
        if (result.Changed)
        {
            await transaction.CommitAsync(ct);
            streaks.EnqueueAfterCommit(userId, result);
        }

        return result switch
        {
            EntryResult.Applied applied => TypedResults.Ok(EntryResponse.From(applied.Record, ClientProtocol.Of(http))),
            EntryResult.Conflict conflict => Problems.Conflict(EntryResponse.From(conflict.Current, ClientProtocol.Of(http))),
            _ => Problems.NotFound("entry not found"),
        };
    }
}

/// <summary>Any subset of an entry's editable fields, plus the version the client last saw.</summary>
internal sealed record UpdateEntryRequest : EntryFields
{
    public int? Version { get; init; }
}

internal sealed class UpdateEntryValidator : AbstractValidator<UpdateEntryRequest>
{
    public UpdateEntryValidator()
    {
        Include(new EntryFieldsValidator());
        RuleFor(x => x.Version).NotNull().WithMessage("'version' is required.")
            .GreaterThanOrEqualTo(1).WithMessage("'version' must be at least 1.");
    }
}
