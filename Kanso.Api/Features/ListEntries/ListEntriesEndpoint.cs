using System.Security.Claims;
using Dapper;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Features.ListEntries;

internal static class ListEntriesEndpoint
{
    public static readonly Duration DefaultRange = Duration.FromDays(30);

    public static RouteGroupBuilder MapListEntries(this RouteGroupBuilder group)
    {
        group.MapGet("/entries", HandleAsync)
            .WithName("ListEntries")
            .WithSummary("The live entries of one of the caller's live habits with completion_date in [from, to], by completion_date, as a bare array.")
            .WithDescription("`habit_id` is required. `from` and `to` are RFC 3339 instants with an offset; `to` defaults to now and `from` to 30 days before `to`. " +
                "A bad value, or `from` after `to`, is a 400; a habit that is not the caller's (or is deleted) is a 404.")
            .WithTags("Entries")
            .WithChangeETag(http => !string.IsNullOrEmpty(http.Request.Query["from"]) && !string.IsNullOrEmpty(http.Request.Query["to"]) ? "" : null) // a defaulted window moves with the clock
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<EntryResponse[]>, ProblemHttpResult>> HandleAsync(
        [FromQuery(Name = "habit_id")] string? habitId, [FromQuery] string? from, [FromQuery] string? to,
        HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, IClock clock, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(habitId))
        {
            return Problems.Invalid("habit_id", "'habit_id' is required.");
        }

        if (!Guid.TryParse(habitId, out var habit))
        {
            return Problems.Invalid("habit_id", "'habit_id' must be a UUID.");
        }

        var end = WireFormat.TruncateToMicroseconds(clock.GetCurrentInstant());
        if (!string.IsNullOrEmpty(to) && !WireFormat.TryParseInstant(to, out end))
        {
            return Problems.Invalid("to", "'to' must be an RFC 3339 instant with an offset, e.g. 2026-03-08T06:59:59Z.");
        }

        var start = end - DefaultRange;
        if (!string.IsNullOrEmpty(from) && !WireFormat.TryParseInstant(from, out start))
        {
            return Problems.Invalid("from", "'from' must be an RFC 3339 instant with an offset, e.g. 2026-03-01T00:00:00Z.");
        }

        if (start > end)
        {
            return Problems.Invalid("from", "'from' must not be after 'to'.");
        }

        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(ListEntriesSql.HabitIsLive, new { userId, habitId = habit }, cancellationToken: ct)))
        {
            return Problems.NotFound("habit not found");
        }

        var entries = await connection.QueryAsync<EntryRecord>(new CommandDefinition(
            ListEntriesSql.LiveEntries, new { userId, habitId = habit, from = start, to = end }, cancellationToken: ct));
        // Before protocol 2 a skip is a tombstone: not a live entry.
        var protocol = ClientProtocol.Of(http);
        return TypedResults.Ok(entries.Where(e => protocol >= 2 || !e.IsSkip).Select(e => EntryResponse.From(e)).ToArray());
    }
}

internal static class ListEntriesSql
{
    public const string HabitIsLive = "SELECT EXISTS (SELECT 1 FROM habits WHERE user_id = @userId AND id = @habitId AND deleted_at IS NULL)";

    public const string LiveEntries = $"""
        SELECT {EntrySql.Columns} FROM habit_entries
        WHERE user_id = @userId AND habit_id = @habitId AND deleted_at IS NULL
          AND completion_date BETWEEN @from AND @to
        ORDER BY completion_date, created_at, id
        """;
}
