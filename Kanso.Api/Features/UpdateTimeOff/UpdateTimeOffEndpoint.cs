using System.Security.Claims;
using FluentValidation;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using TimeOffResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.TimeOffRecord>;

namespace Kanso.Api.Features.UpdateTimeOff;

internal static class UpdateTimeOffEndpoint
{
    public static RouteGroupBuilder MapUpdateTimeOff(this RouteGroupBuilder group)
    {
        group.MapPut("/time-off/{id:guid}", HandleAsync)
            .WithName("UpdateTimeOff")
            .WithSummary("Partially updates time off when `version` is the stored one: 200 with version + 1. A stale version, or deleted time off, is 409 with `current`.")
            .WithDescription("Any subset of start_date, end_date, habit_ids and note; `null` clears habit_ids (all habits) and note. The streaks of the habits covered before and after are recomputed.")
            .WithTags("Time off")
            .Validate<UpdateTimeOffRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Ok<TimeOffResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        Guid id, UpdateTimeOffRequest request, ClaimsPrincipal principal, NpgsqlDataSource db, StreakQueue streaks, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var result = await TimeOffWrites.UpdateAsync(connection, transaction, userId, id, request.Version!.Value, request, ct);
        if (result is TimeOffResult.Applied { Record: var record })
        {
            await transaction.CommitAsync(ct);
            foreach (var habitId in record.DirtyHabits)
            {
                streaks.TryEnqueue(userId, habitId);
            }
        }

        return result switch
        {
            TimeOffResult.Applied applied => TypedResults.Ok(TimeOffResponse.From(applied.Record)),
            TimeOffResult.Conflict conflict => Problems.Conflict(TimeOffResponse.From(conflict.Current)),
            TimeOffResult.Invalid invalid => Problems.Validation(invalid.Errors),
            _ => Problems.NotFound("time off not found"),
        };
    }
}

internal sealed record UpdateTimeOffRequest : TimeOffFields
{
    public int? Version { get; init; }
}

internal sealed class UpdateTimeOffValidator : AbstractValidator<UpdateTimeOffRequest>
{
    public UpdateTimeOffValidator()
    {
        Include(new TimeOffFieldsValidator());
        RuleFor(x => x.Version).NotNull().WithMessage("'version' is required.")
            .GreaterThanOrEqualTo(1).WithMessage("'version' must be at least 1.");
    }
}
