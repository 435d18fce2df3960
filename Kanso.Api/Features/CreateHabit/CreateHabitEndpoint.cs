using System.Security.Claims;
using FluentValidation;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using Npgsql;
using HabitResult = Kanso.Api.Domain.Records.WriteResult<Kanso.Api.Domain.Records.HabitRecord>;

namespace Kanso.Api.Features.CreateHabit;

internal static class CreateHabitEndpoint
{
    public static RouteGroupBuilder MapCreateHabit(this RouteGroupBuilder group)
    {
        group.MapPost("/habits", HandleAsync)
            .WithName("CreateHabit")
            .WithSummary("Creates a habit with version 1 (201). A retried create (an id the caller already has, live or deleted) answers 200 with the stored copy and changes nothing.")
            .WithDescription("`id` is optional (the server then generates one) and must not be the nil UUID. `title` is required. " +
                "Defaults: type boolean, target_value 1, frequency_type daily, sort_order 0, start_date now. " +
                "Only the parameter of the habit's own frequency is stored (weekdays for specific_days, interval for interval, times_per_week for weekly); the others are null. " +
                "`null` is accepted only for description, icon, unit, reminder_time, end_date and archived_at. Server-owned fields in the body are ignored.")
            .WithTags("Habits")
            .Validate<CreateHabitRequest>();
        return group;
    }

    private static async Task<Results<Created<HabitResponse>, Ok<HabitResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        CreateHabitRequest request, ClaimsPrincipal principal, NpgsqlDataSource db, IClock clock, StreakQueue streaks, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        var id = request.Id ?? Guid.CreateVersion7();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var result = await HabitWrites.CreateAsync(connection, transaction, userId, id, request, clock.GetCurrentInstant(), ct);
        if (result.Changed)
        {
            await transaction.CommitAsync(ct);
            streaks.EnqueueAfterCommit(userId, result);
        }

        return result switch
        {
            HabitResult.Created created => TypedResults.Created($"{KansoEndpoints.BasePath}/habits/{id}", HabitResponse.From(created.Record)),
            HabitResult.Existing existing => TypedResults.Ok(HabitResponse.From(existing.Record)),
            HabitResult.Invalid invalid => Problems.Validation(invalid.Errors),
            _ => Problems.NotFound("user not found"),
        };
    }
}

/// <summary>A new habit: its optional client id and the editable fields.</summary>
internal sealed record CreateHabitRequest : HabitFields
{
    public Guid? Id { get; init; }
}

internal sealed class CreateHabitValidator : AbstractValidator<CreateHabitRequest>
{
    public CreateHabitValidator()
    {
        Include(new HabitFieldsValidator());
        RuleFor(x => x.Id).Must(id => id != Guid.Empty).WithMessage("'id' must not be the nil UUID.");
        RuleFor(x => x.Title).Must(t => t.IsSent).WithMessage("'title' is required.");
    }
}
