using System.Security.Claims;
using Dapper;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Domain.Sync;
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
                "start_date to six days before end_date. Each entry counts on its stored local_date; today follows the zone and the user's day_start. " +
                "A day is completed when its summed value reaches target_value (at_most: when it is over and stayed within it). Skipped and time-off days are not scheduled. Scheduled days follow the habit's frequency, from its first day up to today " +
                "and its end_date; a weekly habit schedules min(times_per_week, that week's days in the range up to today) days per Monday-to-Sunday week. " +
                "completion_rate = days_completed / days_scheduled x 100 (0 when nothing is scheduled), unrounded. Archived and deleted habits are left out. " +
                "current_streak and longest_streak are the stored values the streak worker keeps.")
            .WithTags("Stats")
            .WithChangeETag(http => $"{http.GetZone().Id}|{LocalDays.Today(http.RequestServices.GetRequiredService<IClock>(), http.GetZone())}"); // the zone used and its today
        return group;
    }

    private static async Task<Results<Ok<GetStatsResponse>, ProblemHttpResult>> HandleAsync(
        [FromQuery(Name = "start_date")] string? startDate,
        [FromQuery(Name = "end_date")] string? endDate,
        HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, IClock clock, CancellationToken ct)
    {
        var zone = http.GetZone();
        var userId = principal.GetUserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        var dayStart = await connection.QuerySingleOrDefaultAsync<int>(new CommandDefinition(GetStatsSql.DayStart, new { userId }, cancellationToken: ct));
        var today = LocalDays.Today(clock, zone, dayStart);
        var (start, end, problem) = ParseRange(startDate, endDate, today);
        if (problem is not null)
        {
            return problem;
        }

        var rows = await connection.QueryAsync<StatsRow>(new CommandDefinition(
            GetStatsSql.HabitsWithDailyTotals,
            new { userId, start, end },
            cancellationToken: ct));
        var timeOff = (await connection.QueryAsync<TimeOffRow>(new CommandDefinition(
            GetStatsSql.TimeOffInRange, new { userId, start, end }, cancellationToken: ct))).AsList();

        var habits = rows.Select(row => Summarize(row, zone, dayStart, timeOff, start, end, today)).ToList();
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

    private static HabitStatsResponse Summarize(
        StatsRow row, DateTimeZone zone, int dayStart, List<TimeOffRow> timeOff, LocalDate start, LocalDate end, LocalDate today)
    {
        var days = Period.DaysBetween(start, end) + 1;
        var progress = new double[days];
        var skipped = new List<LocalDate>();
        for (var i = 0; i < row.Days.Length; i++)
        {
            // Day k of the range (0 = start), from the entries' stored local dates.
            progress[row.Days[i]] = row.Totals[i];
            if (row.Skipped[i])
            {
                skipped.Add(start.PlusDays(row.Days[i]));
            }
        }

        var off = new DaysOff(skipped, timeOff.Where(t => t.HabitIds is null || t.HabitIds.Contains(row.Id)).Select(t => (t.StartDate, t.EndDate)));
        var schedule = HabitSchedule.FromRow(
            row.FrequencyType, row.Weekdays, row.Interval, row.TimesPerWeek, row.TargetValue, row.StartDate, row.EndDate, zone, row.Goal, dayStart, off);

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

        public string Goal { get; set; } = "at_least";

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

        public bool[] Skipped { get; set; } = [];
    }

    private sealed class TimeOffRow
    {
        public LocalDate StartDate { get; set; }

        public LocalDate EndDate { get; set; }

        public Guid[]? HabitIds { get; set; }
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
    public const string DayStart = "SELECT day_start_minutes FROM users WHERE id = @userId";

    public const string TimeOffInRange = """
        SELECT start_date, end_date, habit_ids FROM time_off
        WHERE user_id = @userId AND deleted_at IS NULL AND start_date <= @end AND end_date >= @start
        """;

    /// <summary>
    /// One query: the caller's live, unarchived habits, each with its summed value of done entries
    /// per local day and whether the day has a skip. Entries are read once through
    /// habit_entries_stats (user_id, local_date) INCLUDE (habit_id, value, kind) and count on their
    /// stored local date (day k of the range = local_date - start).
    /// </summary>
    public const string HabitsWithDailyTotals = """
        WITH totals AS (
            SELECT e.habit_id, e.local_date - @start::date AS day,
                   coalesce(sum(e.value) FILTER (WHERE e.kind = 'done'), 0) AS total, bool_or(e.kind = 'skip') AS skipped
            FROM habit_entries e
            WHERE e.user_id = @userId AND e.deleted_at IS NULL
              AND e.local_date >= @start::date AND e.local_date <= @end::date
            GROUP BY e.habit_id, e.local_date
        )
        SELECT h.id, h.title, h.color, h.icon, h.target_value, h.goal, h.unit,
               h.frequency_type, h.weekdays, h."interval", h.times_per_week, h.start_date, h.end_date,
               h.current_streak, h.longest_streak,
               coalesce(array_agg(t.day ORDER BY t.day) FILTER (WHERE t.day IS NOT NULL), '{}') AS days,
               coalesce(array_agg(t.total ORDER BY t.day) FILTER (WHERE t.day IS NOT NULL), '{}') AS totals,
               coalesce(array_agg(t.skipped ORDER BY t.day) FILTER (WHERE t.day IS NOT NULL), '{}') AS skipped
        FROM habits h
        LEFT JOIN totals t ON t.habit_id = h.id
        WHERE h.user_id = @userId AND h.deleted_at IS NULL AND h.archived_at IS NULL
        GROUP BY h.user_id, h.id
        ORDER BY h.sort_order, h.created_at, h.id
        """;
}
