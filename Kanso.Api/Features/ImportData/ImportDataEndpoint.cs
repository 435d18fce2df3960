using System.IO.Compression;
using System.Security.Claims;
using System.Text.Json;
using Kanso.Api.Domain.Portability;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Time;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Kanso.Api.Features.ImportData;

internal static class ImportDataEndpoint
{
    public static RouteGroupBuilder MapImportData(this RouteGroupBuilder group)
    {
        group.MapPost("/import", HandleAsync)
            .WithName("ImportData")
            .WithSummary("Recreates records (habits, entries, time off, settings) in the caller's account from a GET /export document (application/json) or a Loop Habit Tracker CSV export (application/zip), in one transaction.")
            .WithDescription("Idempotent by id: a record the account already has with the same content is unchanged; with other content (or deleted) it is a conflict, reported and never overwritten. " +
                "The document's settings are applied only while the account's settings were never set (version 1). " +
                "Every record is validated like a write; any invalid one refuses the whole import (400). Limits: a body of 64 MiB, 2,000 habits, 500,000 entries, 10,000 time off records.")
            .WithTags("Data")
            .Accepts<ImportDocument>(KansoDocument.JsonContentType, KansoDocument.ZipContentType)
            .WithMetadata(new RequestSizeLimitAttribute(ImportLimits.MaxBodyBytes))
            .WithRequestTimeout(ImportLimits.Timeout)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return group;
    }

    private static async Task<Results<Ok<ImportDataResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, IClock clock, IOptions<JsonOptions> json, StreakQueue streaks, KnownUsers users,
        CancellationToken ct)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = ImportLimits.MaxBodyBytes;
        }

        var now = clock.GetCurrentInstant();
        (ImportPlan? Plan, IDictionary<string, string[]>? Errors) planned;
        if (http.Request.HasJsonContentType())
        {
            ImportDocument? document;
            try
            {
                document = await JsonSerializer.DeserializeAsync<ImportDocument>(http.Request.Body, json.Value.SerializerOptions, ct);
            }
            catch (JsonException ex)
            {
                return Problems.BadRequest("invalid json", $"The body is not a Kanso export document: {ex.Message}");
            }

            if (document is null || !KansoDocument.CanImport(document.FormatVersion))
            {
                return Problems.Invalid("format_version", $"'format_version' must be 1 or {KansoDocument.FormatVersion} (a document of GET /export).");
            }

            planned = ImportDataApply.Plan("kanso", document.Habits ?? [], document.Entries ?? [], now, http.GetZone(), document.TimeOff, document.Settings);
        }
        else if (http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() is KansoDocument.ZipContentType or "application/x-zip-compressed")
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, ct);
            if (buffer.Length > ImportLimits.MaxBodyBytes)
            {
                return Problems.Create(StatusCodes.Status413PayloadTooLarge, "payload too large", $"The request body is over {ImportLimits.MaxBodyBytes} bytes.");
            }

            buffer.Position = 0;
            try
            {
                var (habits, entries, error) = ImportDataLoop.Read(buffer, http.GetZone(), now);
                if (error is not null)
                {
                    return Problems.BadRequest("invalid loop export", error);
                }

                planned = ImportDataApply.Plan("loop", habits, entries, now, http.GetZone());
            }
            catch (InvalidDataException ex)
            {
                return Problems.BadRequest("invalid loop export", $"The zip could not be read: {ex.Message}");
            }
        }
        else
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "unsupported media type",
                "Send a Kanso export document as application/json or a Loop Habit Tracker CSV export as application/zip.");
        }

        if (planned.Errors is { } invalid)
        {
            return Problems.Validation(invalid);
        }

        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var outcome = await ImportDataApply.ApplyAsync(connection, transaction, userId, planned.Plan!, ct);
        if (outcome.Errors is { } errors)
        {
            return Problems.Validation(errors);
        }

        if (!outcome.Changed)
        {
            // Nothing new: leave no trace, not even a used change number.
            await transaction.RollbackAsync(ct);
            return TypedResults.Ok(outcome.Response!);
        }

        await transaction.CommitAsync(ct);
        if (outcome.NewTimezone is { } timezone && http.Features.Get<KnownUser>() is { } user)
        {
            // The cached zone of this instance follows at once, as after PUT /settings.
            await users.RememberZoneAsync(user, timezone, ct);
        }

        foreach (var habitId in outcome.TouchedHabits)
        {
            streaks.TryEnqueue(userId, habitId);
        }

        return TypedResults.Ok(outcome.Response!);
    }
}
