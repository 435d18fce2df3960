using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Serialization;
using Kanso.Api.Domain;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using Npgsql;
using NpgsqlTypes;

namespace Kanso.Api.Features.PullChanges;

internal static class PullChangesEndpoint
{
    public const int DefaultLimit = 500;
    public const int MaxLimit = 1000;

    public static RouteGroupBuilder MapPullChanges(this RouteGroupBuilder group)
    {
        group.MapGet("/sync/pull", HandleAsync)
            .WithName("PullChanges")
            .WithSummary("A page of the caller's changes after `cursor`: habits and entries, each once in its latest state, tombstones included. " +
                "Pull again with the returned `cursor` while `has_more` is true.")
            .WithDescription("""
                **The pull loop.** Keep the `cursor` of the last page; pull with it until `has_more` is false. You then have every change committed before that last pull began, with no gaps, whatever writes commit meanwhile: the cursor is a position in the account's own change counter, which every write takes in commit order, not a clock.

                **Without a cursor** (a new device): every live record, paged the same way (tombstones are left out: there is nothing to delete yet). Keep following the cursors it returns; later pages bring deletions as tombstones.

                **Records.** `limit` (1–1000, default 500) counts habits and entries together. A record appears in the page of its latest change only, with `deleted_at` set when it is a tombstone (delete it locally). Changes made by the server (streaks) come back too; they do not change `version`.

                **Cursor.** Opaque; store it as given. It is tied to the account: a cursor of another account, or a malformed one, is 400 `invalid cursor`. When a page empties the backlog the cursor moves to the account's current position, so an idle pull costs one short index read.

                **Long poll** (`wait`, 1–30 seconds, with a cursor): when nothing changed after the cursor, the answer is held until a change commits (then answered at once) or `wait` seconds pass (then an empty page, the cursor at the same position). For clients that cannot hold the event stream (`GET /sync/events`). A held request holds no database connection.

                **410 `resync required`.** Tombstones are kept for the tombstone retention (30 days by default). A cursor from before a purged tombstone could miss that deletion, so it is refused: drop the local copy's sync state and pull again without a cursor.
                """)
            .WithTags("Sync")
            .StampsSessionSync()
            .WithRequestTimeout(new RequestTimeoutPolicy { Timeout = ErrorSetup.RequestTimeout + TimeSpan.FromSeconds(LiveOptions.MaxWaitSeconds), TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable })
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone);
        return group;
    }

    /// <summary>
    /// A pull, held when <paramref name="wait"/> is given with a cursor and the page is empty: until a
    /// hint for the user comes (then pulled again at once) or the wait ends. Subscribed before the
    /// first read, so a change committed after it always wakes the wait; no connection is held while
    /// waiting (the page's connection is returned before).
    /// </summary>
    private static async Task<Results<Ok<PullChangesResponse>, ProblemHttpResult>> HandleAsync(
        [FromQuery] string? cursor, [FromQuery] string? limit, [FromQuery] string? wait,
        HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, KansoMetrics metrics, ChangeHintHub hints, CancellationToken ct)
    {
        var seconds = 0;
        if (!string.IsNullOrEmpty(wait)
            && (!int.TryParse(wait, NumberStyles.None, CultureInfo.InvariantCulture, out seconds) || seconds is < 1 or > LiveOptions.MaxWaitSeconds))
        {
            return Problems.Invalid("wait", $"'wait' must be a whole number of seconds from 1 to {LiveOptions.MaxWaitSeconds}.");
        }

        if (seconds == 0 || string.IsNullOrEmpty(cursor))
        {
            return await PageAsync(cursor, limit, http, principal, db, metrics, ct);
        }

        using var subscription = hints.TrySubscribe(principal.GetUserId())!;
        var deadline = DateTimeOffset.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var page = await PageAsync(cursor, limit, http, principal, db, metrics, ct);
            var remaining = deadline - DateTimeOffset.UtcNow;
            if (page.Result is not Ok<PullChangesResponse> { Value: { HasMore: false, Habits.Count: 0, Entries.Count: 0, TimeOff: null or { Count: 0 }, Settings: null } }
                || remaining <= TimeSpan.Zero
                || !await subscription.WaitAsync(remaining, ct))
            {
                return page;
            }
        }
    }

    private static async Task<Results<Ok<PullChangesResponse>, ProblemHttpResult>> PageAsync(
        string? cursor, string? limit, HttpContext http, ClaimsPrincipal principal, NpgsqlDataSource db, KansoMetrics metrics, CancellationToken ct)
    {
        var take = DefaultLimit;
        if (!string.IsNullOrEmpty(limit)
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take is < 1 or > MaxLimit))
        {
            return Problems.Invalid("limit", $"'limit' must be a whole number from 1 to {MaxLimit}.");
        }

        var userId = principal.GetUserId();
        var initial = string.IsNullOrEmpty(cursor);
        var from = SyncCursor.Start;
        if (!initial && !SyncCursor.TryDecode(cursor, userId, out from))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid cursor",
                "The cursor is malformed or belongs to another account: use a cursor this account received, or pull without one.",
                new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["cursor"] = ["'cursor' is not a cursor of this account."] } });
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var protocol = ClientProtocol.Of(http);
        await using var command = PullChangesSql.Command(connection, userId, from, initial, take, protocol);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return Problems.NotFound("user not found");
        }

        // The user's row comes first, read in the same snapshot as the records.
        var userSeq = reader.GetInt64(PullChangesSql.UserSeq);
        var purgedSeq = reader.GetInt64(PullChangesSql.PurgedSeq);

        // Protocol 2: the settings when they changed after the cursor (always on an initial pull), and time off.
        var settings = protocol >= 2 && (initial || reader.GetInt64(PullChangesSql.SettingsSeq) > from.Seq) ? PullChangesSql.ReadSettings(reader) : null;
        var timeOff = protocol >= 2 ? new List<TimeOffResponse>() : null;
        if (!initial && (from.Horizon < purgedSeq || from.Horizon > userSeq))
        {
            // Behind the purge: a deletion may be gone. Ahead of the account: not a position this data ever had (e.g. a restored backup).
            metrics.ResyncRequired();
            return Problems.Create(StatusCodes.Status410Gone, "resync required",
                "The cursor is older than the tombstone retention, so deletions may have been missed: pull again without a cursor and replace the local copy.");
        }

        var habits = new List<HabitResponse>();
        var entries = new List<EntryResponse>();
        (long Seq, ChangeKind Kind, Guid Id) last = default;
        while (await reader.ReadAsync(ct))
        {
            var kind = (ChangeKind)reader.GetInt32(PullChangesSql.Kind);
            var seq = reader.GetInt64(PullChangesSql.Seq);
            if (habits.Count + entries.Count + (timeOff?.Count ?? 0) == take)
            {
                // One row more than the page: there is more, and the page ends either at the end of a
                // change number or inside one.
                metrics.Pulled(habits.Count + entries.Count + (timeOff?.Count ?? 0));
                return TypedResults.Ok(new PullChangesResponse(habits, entries, Next(last, seq).Encode(userId), true, timeOff, settings));
            }

            var id = reader.GetGuid(PullChangesSql.Id);
            last = (seq, kind, id);
            if (kind == ChangeKind.Habit)
            {
                habits.Add(PullChangesSql.ReadHabit(reader, id));
            }
            else if (kind == ChangeKind.TimeOff)
            {
                timeOff?.Add(PullChangesSql.ReadTimeOff(reader, id));
            }
            else
            {
                entries.Add(EntryResponse.From(PullChangesSql.ReadEntry(reader, id), protocol));
            }
        }

        // The backlog is empty: every change up to the account's position in this snapshot has been served.
        metrics.Pulled(habits.Count + entries.Count + (timeOff?.Count ?? 0));
        return TypedResults.Ok(new PullChangesResponse(habits, entries, SyncCursor.At(Math.Max(userSeq, last.Seq)).Encode(userId), false, timeOff, settings));

        SyncCursor Next((long Seq, ChangeKind Kind, Guid Id) served, long nextSeq)
        {
            var position = nextSeq > served.Seq ? SyncCursor.At(served.Seq) : new SyncCursor(served.Seq, served.Kind, served.Id, 0);

            // An initial sync skips tombstones up to the position it began at; later pages keep doing so.
            var floor = initial ? userSeq : from.Floor;
            return floor > position.Seq ? position with { Floor = floor } : position;
        }
    }
}

/// <summary>A page of changes: habits and entries in change order, the cursor to pull from next, and whether more is waiting.</summary>
/// <remarks><c>time_off</c> and <c>settings</c> are for protocol 2 clients only (absent otherwise); <c>settings</c> only when they changed.</remarks>
internal sealed record PullChangesResponse(
    List<HabitResponse> Habits,
    List<EntryResponse> Entries,
    string Cursor,
    bool HasMore,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<TimeOffResponse>? TimeOff = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SettingsResponse? Settings = null);

/// <summary>
/// One statement, so the user's row (position and purge horizon) and the records come from one
/// snapshot: a merge of two ordered index ranges, (user_id, change_seq, id) on habits and on entries,
/// each cut by LIMIT, under a row for the user. Rows of the two shapes share one column list (the
/// columns of the other shape are null), read by ordinal straight into the wire records: this is the
/// hottest route, so no intermediate row objects.
/// </summary>
internal static class PullChangesSql
{
    public const int Kind = 0;
    public const int Seq = 1;
    public const int Id = 2;
    public const int UserSeq = 3;
    public const int PurgedSeq = 4;
    private const int Version = 5;
    private const int CreatedAt = 6;
    private const int UpdatedAt = 7;
    private const int DeletedAt = 8;
    private const int Title = 9;
    private const int HabitId = 27;
    private const int Goal = 31;
    private const int LocalDate = 32;
    private const int EntryKind = 33;
    private const int OffStart = 34;
    private const int OffEnd = 35;
    private const int OffHabits = 36;
    private const int OffNote = 37;
    public const int SettingsSeq = 38;
    private const int SettingsZone = 39;
    private const int SettingsDayStart = 40;
    private const int SettingsVersion = 41;

    // The first branch fixes the column types (a UNION resolves them left to right); the user's row sorts first.
    // Positional parameters, in the order of Command's (see there): Npgsql then sends the text as it is,
    // where named ones make it parse this whole statement on every pull (2–3 % of a pull's CPU in a profile).
    public const string Changes = """
        SELECT -1 AS sync_kind, -1::bigint AS sync_seq, NULL::uuid AS sync_id, change_seq AS user_seq, purged_seq,
            NULL::integer AS version, NULL::timestamptz AS created_at, NULL::timestamptz AS updated_at, NULL::timestamptz AS deleted_at,
            NULL::text AS title, NULL::text AS description, NULL::text AS color, NULL::text AS icon, NULL::integer AS sort_order,
            NULL::text AS type, NULL::double precision AS target_value, NULL::text AS unit, NULL::text AS frequency_type,
            NULL::smallint[] AS weekdays, NULL::integer AS "interval", NULL::integer AS times_per_week, NULL::text AS reminder_time,
            NULL::timestamptz AS start_date, NULL::timestamptz AS end_date, NULL::timestamptz AS archived_at,
            NULL::integer AS current_streak, NULL::integer AS longest_streak,
            NULL::uuid AS habit_id, NULL::timestamptz AS completion_date, NULL::double precision AS value, NULL::text AS notes,
            NULL::text AS goal, NULL::date AS local_date, NULL::text AS kind,
            NULL::date AS off_start, NULL::date AS off_end, NULL::uuid[] AS habit_ids, NULL::text AS note,
            settings_seq, timezone, day_start_minutes::integer, settings_version
        FROM users WHERE id = $1
        UNION ALL
        (SELECT 0, change_seq, id, NULL, NULL, version, created_at, updated_at, deleted_at,
            title, description, color, icon, sort_order, type, target_value, unit, frequency_type,
            weekdays, "interval", times_per_week, reminder_time, start_date, end_date, archived_at, current_streak, longest_streak,
            NULL, NULL, NULL, NULL,
            goal, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM habits
        WHERE user_id = $1 AND (change_seq, id) >= ($2, $3) AND (deleted_at IS NULL OR change_seq > $6)
        ORDER BY change_seq, id
        LIMIT $7)
        UNION ALL
        (SELECT 1, change_seq, id, NULL, NULL, version, created_at, updated_at, deleted_at,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            habit_id, completion_date, value, notes,
            NULL, local_date, kind, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM habit_entries
        -- Before protocol 2 a skip is a tombstone: an initial pull leaves it out like the others.
        WHERE user_id = $1 AND (change_seq, id) >= ($4, $5)
          AND ((deleted_at IS NULL AND ($10 >= 2 OR kind = 'done')) OR change_seq > $6)
        ORDER BY change_seq, id
        LIMIT $7)
        UNION ALL
        (SELECT 3, change_seq, id, NULL, NULL, version, created_at, updated_at, deleted_at,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, start_date, end_date, habit_ids, note, NULL, NULL, NULL, NULL
        FROM time_off
        WHERE $10 >= 2 AND user_id = $1 AND (change_seq, id) >= ($8, $9) AND (deleted_at IS NULL OR change_seq > $6)
        ORDER BY change_seq, id
        LIMIT $7)
        ORDER BY sync_seq, sync_kind, sync_id
        LIMIT $7 + 1
        """;

    /// <summary>
    /// Typed parameters on a plain command (auto-prepared by the data source). <paramref name="take"/>
    /// + 1 records are asked for, the extra one telling whether more remain. Without a cursor
    /// (<paramref name="initial"/>) tombstones are left out: the floor is above every change number.
    /// </summary>
    public static NpgsqlCommand Command(NpgsqlConnection connection, Guid userId, SyncCursor from, bool initial, int take, int protocol = 1)
    {
        var (habitSeq, habitId) = from.HabitsFrom;
        var (entrySeq, entryId) = from.EntriesFrom;
        var (offSeq, offId) = from.TimeOffFrom;
        var command = new NpgsqlCommand(Changes, connection)
        {
            Parameters =
            {
                new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = userId },        // $1 userId
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = habitSeq },    // $2 habitSeq
                new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = habitId },       // $3 habitId
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = entrySeq },    // $4 entrySeq
                new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = entryId },       // $5 entryId
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = initial ? long.MaxValue : from.Floor }, // $6 floor
                new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = take + 1 },    // $7 take
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = offSeq },      // $8 offSeq
                new NpgsqlParameter<Guid> { NpgsqlDbType = NpgsqlDbType.Uuid, TypedValue = offId },         // $9 offId
                new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = protocol },    // $10 protocol
            },
        };
        return command;
    }

    public static HabitResponse ReadHabit(NpgsqlDataReader r, Guid id) => new(
        id,
        r.GetString(Title),
        NullableString(r, Title + 1),
        NullableString(r, Title + 2),
        NullableString(r, Title + 3),
        r.GetInt32(Title + 4),
        r.GetString(Title + 5),
        r.GetDouble(Title + 6),
        NullableString(r, Title + 7),
        r.GetString(Goal),
        r.GetString(Title + 8),
        r.IsDBNull(Title + 9) ? null : r.GetFieldValue<int[]>(Title + 9),
        r.IsDBNull(Title + 10) ? null : r.GetInt32(Title + 10),
        r.IsDBNull(Title + 11) ? null : r.GetInt32(Title + 11),
        NullableString(r, Title + 12),
        r.GetFieldValue<Instant>(Title + 13),
        NullableInstant(r, Title + 14),
        NullableInstant(r, Title + 15),
        r.GetInt32(Title + 16),
        r.GetInt32(Title + 17),
        r.GetInt32(Version),
        r.GetFieldValue<Instant>(CreatedAt),
        r.GetFieldValue<Instant>(UpdatedAt),
        NullableInstant(r, DeletedAt));

    public static EntryRecord ReadEntry(NpgsqlDataReader r, Guid id) => new()
    {
        Id = id,
        HabitId = r.GetGuid(HabitId),
        CompletionDate = r.GetFieldValue<Instant>(HabitId + 1),
        LocalDate = r.GetFieldValue<LocalDate>(LocalDate),
        Kind = r.GetString(EntryKind),
        Value = r.GetDouble(HabitId + 2),
        Notes = NullableString(r, HabitId + 3),
        Version = r.GetInt32(Version),
        CreatedAt = r.GetFieldValue<Instant>(CreatedAt),
        UpdatedAt = r.GetFieldValue<Instant>(UpdatedAt),
        DeletedAt = NullableInstant(r, DeletedAt),
    };

    public static TimeOffResponse ReadTimeOff(NpgsqlDataReader r, Guid id) => new(
        id,
        r.GetFieldValue<LocalDate>(OffStart),
        r.GetFieldValue<LocalDate>(OffEnd),
        r.IsDBNull(OffHabits) ? null : r.GetFieldValue<Guid[]>(OffHabits),
        NullableString(r, OffNote),
        r.GetInt32(Version),
        r.GetFieldValue<Instant>(CreatedAt),
        r.GetFieldValue<Instant>(UpdatedAt),
        NullableInstant(r, DeletedAt));

    /// <summary>The settings from the user's row (the first row).</summary>
    public static SettingsResponse ReadSettings(NpgsqlDataReader r) =>
        new(r.GetString(SettingsZone), SettingsRules.FormatDayStart(r.GetInt32(SettingsDayStart)), r.GetInt32(SettingsVersion));

    private static string? NullableString(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    private static Instant? NullableInstant(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetFieldValue<Instant>(ordinal);
}
