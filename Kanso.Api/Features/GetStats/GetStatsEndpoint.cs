using System.Security.Claims;
using Dapper;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Time;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Features.GetStats;

internal static class GetStatsEndpoint
{
    public const int MaxDays = 366;

    public static RouteGroupBuilder MapGetStats(this RouteGroupBuilder group)
    {
        group.MapGet("/stats/weekly", HandleAsync)
            .WithName("GetStats")
            .WithSummary("Completion per habit and local day over a date range (default the last 7 days) in the X-Timezone zone, else the user's.")
            .WithDescription(
                "start_date and end_date are local dates (YYYY-MM-DD), both included, at most 366 days apart; end_date defaults to today in the zone and " +
                "start_date to six days before end_date. Each entry counts on the local day of its completion_date (a DST day of 23 or 25 hours is one day). " +
                "A day is completed when its summed value reaches target_value. Scheduled days follow the habit's frequency, from its first day up to today " +
                "and its end_date; a weekly habit schedules min(times_per_week, that week's days in the range up to today) days per Monday-to-Sunday week. " +
                "completion_rate = days_completed / days_scheduled x 100 (0 when nothing is scheduled), unrounded. Archived and deleted habits are left out. " +
                "current_streak and longest_streak are the stored values the streak worker keeps.")
            .WithTags("Stats");
        return group;
    }

    private static async Task<Results<Ok<GetStatsResponse>, ProblemHttpResult>> HandleAsync(
        [FromQuery(Name = "start_date")] string? startDate,
        [FromQuery(Name = "end_date")] string? endDate,
        HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, IClock clock, CancellationToken ct)
    {
        var zone = http.GetZone();
        var today = LocalDays.Today(clock, zone);
        var (start, end, problem) = ParseRange(startDate, endDate, today);
        if (problem is not null)
        {
            return problem;
        }

        var bounds = LocalDays.Bounds(zone, start, end);

        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<StatsRow>(new CommandDefinition(
            GetStatsSql.HabitsWithDailyTotals,
            new { userId = principal.GetUserId(), bounds, from = bounds[0], to = bounds[^1] },
            cancellationToken: ct));

        var habits = rows.Select(row => Summarize(row, zone, start, end, today)).ToList();
        var scheduled = habits.Sum(h => h.DaysScheduled);
        var completed = habits.Sum(h => h.DaysCompleted);
        return TypedResults.Ok(new GetStatsResponse(start, end, zone.Id, habits.Count, Rate(completed, scheduled), habits));
    }

    private static (LocalDate Start, LocalDate End, ProblemHttpResult? Problem) ParseRange(string? startText, string? endText, LocalDate today)
    {
        var end = today;
        if (!string.IsNullOrEmpty(endText) && !TryParse(endText, out end))
        {
            return (default, default, Problems.Invalid("end_date", "'end_date' must be a date, YYYY-MM-DD."));
        }

        var start = end.PlusDays(-6);
        if (!string.IsNullOrEmpty(startText) && !TryParse(startText, out start))
        {
            return (default, default, Problems.Invalid("start_date", "'start_date' must be a date, YYYY-MM-DD."));
        }

        if (start > end)
        {
            return (default, default, Problems.Invalid("start_date", "'start_date' must not be after 'end_date'."));
        }

        if (Period.DaysBetween(start, end) + 1 > MaxDays)
        {
            return (default, default, Problems.Invalid("end_date", $"The range may hold at most {MaxDays} days, both ends included."));
        }

        return (start, end, null);
    }

    // The last representable date has no "day after" to end it; no client means it.
    private static bool TryParse(string text, out LocalDate date) =>
        WireFormat.TryParseDate(text, out date) && date < LocalDate.MaxIsoValue && date.Year >= 1;

    private static HabitStatsResponse Summarize(StatsRow row, DateTimeZone zone, LocalDate start, LocalDate end, LocalDate today)
    {
        var schedule = HabitSchedule.FromRow(row.FrequencyType, row.Weekdays, row.Interval, row.TimesPerWeek, row.TargetValue, row.StartDate, row.EndDate, zone);
        var days = Period.DaysBetween(start, end) + 1;
        var progress = new double[days];
        for (var i = 0; i < row.Days.Length; i++)
        {
            // width_bucket numbers the day starting at bounds[k] as k + 1.
            progress[row.Days[i] - 1] = row.Totals[i];
        }

        var (scheduled, completed) = StatsCalculator.Count(schedule, start, end, today, progress);

        return new HabitStatsResponse(
            row.Id, row.Title, row.Color, row.Icon, row.TargetValue, row.Unit,
            progress.Sum(), completed, scheduled, Rate(completed, scheduled), progress,
            row.CurrentStreak, row.LongestStreak);
    }

    private static double Rate(int completed, int scheduled) => scheduled == 0 ? 0 : completed * 100.0 / scheduled;

    private sealed class StatsRow
    {
        public Guid Id { get; set; }

        public string Title { get; set; } = "";

        public string? Color { get; set; }

        public string? Icon { get; set; }

        public double TargetValue { get; set; }

        public string? Unit { get; set; }

        public string FrequencyType { get; set; } = "daily";

        public short[]? Weekdays { get; set; }

        public int? Interval { get; set; }

        public int? TimesPerWeek { get; set; }

        public Instant StartDate { get; set; }

        public Instant? EndDate { get; set; }

        public int CurrentStreak { get; set; }

        public int LongestStreak { get; set; }

        public int[] Days { get; set; } = [];

        public double[] Totals { get; set; } = [];
    }
}

internal sealed record GetStatsResponse(
    LocalDate StartDate,
    LocalDate EndDate,
    string Timezone,
    int TotalHabits,
    double OverallCompletionRate,
    IReadOnlyList<HabitStatsResponse> Habits);

internal sealed record HabitStatsResponse(
    Guid HabitId,
    string HabitTitle,
    string? Color,
    string? Icon,
    double TargetValue,
    string? Unit,
    double TotalValue,
    int DaysCompleted,
    int DaysScheduled,
    double CompletionRate,
    double[] DailyProgress,
    int CurrentStreak,
    int LongestStreak);

internal static class GetStatsSql
{
    /// <summary>
    /// One query: the caller's live, unarchived habits, each with its summed value per local day.
    /// Entries are read once through habit_entries_stats (user_id, completion_date) INCLUDE
    /// (habit_id, value), and width_bucket puts each on its local day by the day-start instants
    /// that NodaTime computed (bucket k + 1 = [bounds[k], bounds[k + 1])).
    /// </summary>
    public const string HabitsWithDailyTotals = """
        WITH totals AS (
            SELECT e.habit_id, width_bucket(e.completion_date, @bounds) AS day, sum(e.value) AS total
            FROM habit_entries e
            WHERE e.user_id = @userId AND e.deleted_at IS NULL
              AND e.completion_date >= @from AND e.completion_date < @to
            GROUP BY e.habit_id, day
        )
        SELECT h.id, h.title, h.color, h.icon, h.target_value, h.unit,
               h.frequency_type, h.weekdays, h."interval", h.times_per_week, h.start_date, h.end_date,
               h.current_streak, h.longest_streak,
               coalesce(array_agg(t.day ORDER BY t.day) FILTER (WHERE t.day IS NOT NULL), '{}') AS days,
               coalesce(array_agg(t.total ORDER BY t.day) FILTER (WHERE t.day IS NOT NULL), '{}') AS totals
        FROM habits h
        LEFT JOIN totals t ON t.habit_id = h.id
        WHERE h.user_id = @userId AND h.deleted_at IS NULL AND h.archived_at IS NULL
        GROUP BY h.user_id, h.id
        ORDER BY h.sort_order, h.created_at, h.id
        """;
}
