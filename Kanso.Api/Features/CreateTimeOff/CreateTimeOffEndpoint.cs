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

namespace Kanso.Api.Features.CreateTimeOff;

internal static class CreateTimeOffEndpoint
{
    public static RouteGroupBuilder MapCreateTimeOff(this RouteGroupBuilder group)
    {
        group.MapPost("/time-off", HandleAsync)
            .WithName("CreateTimeOff")
            .WithSummary("Records time off: local dates start_date to end_date (both included, at most 366 days) when the habits in habit_ids (null = all) are not scheduled. 201 with version 1; a retried create answers 200 with the stored copy.")
            .WithDescription("`start_date` and `end_date` are required (YYYY-MM-DD); `habit_ids` is null (all habits) or 1 to 100 distinct ids; `note` at most 500 characters. `id` is optional. The streaks of the covered habits are recomputed.")
            .WithTags("Time off")
            .Validate<CreateTimeOffRequest>();
        return group;
    }

    private static async Task<Results<Created<TimeOffResponse>, Ok<TimeOffResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        CreateTimeOffRequest request, ClaimsPrincipal principal, NpgsqlDataSource db, StreakQueue streaks, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        var id = request.Id ?? Guid.CreateVersion7();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var result = await TimeOffWrites.CreateAsync(connection, transaction, userId, id, request, ct);
        if (result is TimeOffResult.Created { Record: var record })
        {
            await transaction.CommitAsync(ct);
            foreach (var habitId in record.DirtyHabits)
            {
                streaks.TryEnqueue(userId, habitId);
            }
        }

        return result switch
        {
            TimeOffResult.Created created => TypedResults.Created($"{KansoEndpoints.BasePath}/time-off/{id}", TimeOffResponse.From(created.Record)),
            TimeOffResult.Existing existing => TypedResults.Ok(TimeOffResponse.From(existing.Record)),
            TimeOffResult.Invalid invalid => Problems.Validation(invalid.Errors),
            _ => Problems.NotFound("user not found"),
        };
    }
}

internal sealed record CreateTimeOffRequest : TimeOffFields
{
    public Guid? Id { get; init; }
}

internal sealed class CreateTimeOffValidator : AbstractValidator<CreateTimeOffRequest>
{
    public CreateTimeOffValidator()
    {
        Include(new TimeOffFieldsValidator());
        RuleFor(x => x.Id).Must(id => id != Guid.Empty).WithMessage("'id' must not be the nil UUID.");
        RuleFor(x => x.StartDate).Sent();
        RuleFor(x => x.EndDate).Sent();
    }
}
