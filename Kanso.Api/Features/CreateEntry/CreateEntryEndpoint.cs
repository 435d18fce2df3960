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

namespace Kanso.Api.Features.CreateEntry;

internal static class CreateEntryEndpoint
{
    public static RouteGroupBuilder MapCreateEntry(this RouteGroupBuilder group)
    {
        group.MapPost("/entries", HandleAsync)
            .WithName("CreateEntry")
            .WithSummary("Records a completion on a live habit of the caller (201, version 1; 404 otherwise). A retried create (an id the caller already has, live or deleted) answers 200 with the stored copy and changes nothing.")
            .WithDescription("`habit_id` and `completion_date` are required; `id` is optional (the server then generates one). `value` defaults to 1 when absent; `kind` is `done` (default) or `skip`; `local_date` defaults to the day of `completion_date` in the request's zone under the user's day start; `null` is a 400 for every field. Server-owned fields in the body are ignored.")
            .WithTags("Entries")
            .Validate<CreateEntryRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Created<EntryResponse>, Ok<EntryResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        CreateEntryRequest request, HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, StreakQueue streaks, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        var id = request.Id ?? Guid.CreateVersion7();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var result = await EntryWrites.CreateAsync(connection, transaction, userId, id, request.HabitId!.Value, request, ct, http.GetZone());
        if (result.Changed)
        {
            await transaction.CommitAsync(ct);
            streaks.EnqueueAfterCommit(userId, result);
        }

        return result switch
        {
            EntryResult.Created created => TypedResults.Created($"{KansoEndpoints.BasePath}/entries/{id}", EntryResponse.From(created.Record, ClientProtocol.Of(http))),
            EntryResult.Existing existing => TypedResults.Ok(EntryResponse.From(existing.Record, ClientProtocol.Of(http))),
            EntryResult.Invalid invalid => Problems.Validation(invalid.Errors),
            _ => Problems.NotFound("habit not found"),
        };
    }
}

/// <summary>A new entry: its optional client id, its habit and the editable fields.</summary>
internal sealed record CreateEntryRequest : EntryFields
{
    public Guid? Id { get; init; }

    public Guid? HabitId { get; init; }
}

internal sealed class CreateEntryValidator : AbstractValidator<CreateEntryRequest>
{
    public CreateEntryValidator()
    {
        Include(new EntryFieldsValidator());
        RuleFor(x => x.Id).Must(id => id != Guid.Empty).WithMessage("'id' must not be the nil UUID.");
        RuleFor(x => x.HabitId).NotNull().WithMessage("'habit_id' is required.");
        RuleFor(x => x.CompletionDate).Sent();
    }
}
