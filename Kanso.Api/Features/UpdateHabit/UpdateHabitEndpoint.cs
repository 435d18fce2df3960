using System.Security.Claims;
using FluentValidation;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using HabitResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.HabitRecord>;

namespace Kanso.Api.Features.UpdateHabit;

internal static class UpdateHabitEndpoint
{
    public static RouteGroupBuilder MapUpdateHabit(this RouteGroupBuilder group)
    {
        group.MapPut("/habits/{id:guid}", HandleAsync)
            .WithName("UpdateHabit")
            .WithSummary("Partially updates a habit when `version` is the stored one: 200 with version + 1. A stale version, or a deleted habit, is 409 with `current` (the server's copy, a tombstone when deleted).")
            .WithDescription("A property left out is unchanged; `null` clears description, icon, unit, reminder_time, end_date or archived_at and is a 400 for any other field. " +
                "The merged habit must meet the type and frequency rules (e.g. specific_days needs weekdays); a boolean habit's target_value is forced to 1. 404 when the habit is not the caller's.")
            .WithTags("Habits")
            .Validate<UpdateHabitRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Ok<HabitResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        Guid id, UpdateHabitRequest request, ClaimsPrincipal principal, NpgsqlDataSource db, StreakQueue streaks, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var result = await HabitWrites.UpdateAsync(connection, transaction, userId, id, request.Version!.Value, request, ct);
        if (result.Changed)
        {
            await transaction.CommitAsync(ct);
            streaks.EnqueueAfterCommit(userId, result);
        }

        return result switch
        {
            HabitResult.Applied applied => TypedResults.Ok(HabitResponse.From(applied.Record)),
            HabitResult.Conflict conflict => Problems.Conflict(HabitResponse.From(conflict.Current)),
            HabitResult.Invalid invalid => Problems.Validation(invalid.Errors),
            _ => Problems.NotFound("habit not found"),
        };
    }
}

/// <summary>Any subset of a habit's editable fields, plus the version the client last saw.</summary>
internal sealed record UpdateHabitRequest : HabitFields
{
    public int? Version { get; init; }
}

internal sealed class UpdateHabitValidator : AbstractValidator<UpdateHabitRequest>
{
    public UpdateHabitValidator()
    {
        Include(new HabitFieldsValidator());
        RuleFor(x => x.Version).NotNull().WithMessage("'version' is required.")
            .GreaterThanOrEqualTo(1).WithMessage("'version' must be at least 1.");
    }
}
