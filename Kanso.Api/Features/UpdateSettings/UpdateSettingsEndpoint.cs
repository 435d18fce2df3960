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

namespace Kanso.Api.Features.UpdateSettings;

internal static class UpdateSettingsEndpoint
{
    public static RouteGroupBuilder MapUpdateSettings(this RouteGroupBuilder group)
    {
        group.MapPut("/settings", HandleAsync)
            .WithName("UpdateSettings")
            .WithSummary("Sets the zone and/or the day start when `version` is the stored one: 200 with version + 1; a stale version is 409 with `current`.")
            .WithDescription("`timezone`: an IANA name. `day_start`: HH:MM from 00:00 to 06:00, the hour the user's day begins; it decides local_date of new entries and today for streaks and stats. Past entries never move. Other devices receive the change through pull (`settings`).")
            .WithTags("Settings")
            .Validate<UpdateSettingsRequest>()
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Ok<SettingsResponse>, ProblemHttpResult>> HandleAsync(
        UpdateSettingsRequest request, HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, StreakQueue streaks, KnownUsers users, CancellationToken ct)
    {
        var userId = principal.GetUserId();
        int? dayStart = request.DayStart.HasValue && SettingsRules.TryParseDayStart(request.DayStart.Value, out var minutes) ? minutes : null;
        var timezone = request.Timezone.HasValue ? DateTimeZoneProviders.Tzdb[request.Timezone.Value].Id : null;

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        if (await SettingsWrites.UpdateAsync(connection, transaction, userId, request.Version!.Value, timezone, dayStart, ct) is not { } result)
        {
            return Problems.NotFound("user not found");
        }

        if (!result.Applied)
        {
            return Problems.Conflict(SettingsResponse.From(result.Settings));
        }

        await transaction.CommitAsync(ct);
        if (http.Features.Get<KnownUser>() is { } user)
        {
            // The cached zone of this instance follows at once (the same path as X-Timezone).
            await users.RememberZoneAsync(user, result.Settings.Timezone, ct);
        }

        foreach (var habitId in result.DirtyHabits)
        {
            streaks.TryEnqueue(userId, habitId);
        }

        return TypedResults.Ok(SettingsResponse.From(result.Settings));
    }
}

internal sealed record UpdateSettingsRequest : SettingsFields;

internal sealed class UpdateSettingsValidator : AbstractValidator<UpdateSettingsRequest>
{
    public UpdateSettingsValidator()
    {
        Include(new SettingsFieldsValidator());
        RuleFor(x => x.Version).NotNull().WithMessage("'version' is required.")
            .GreaterThanOrEqualTo(1).WithMessage("'version' must be at least 1.");
    }
}
