using System.Globalization;
using System.IO.Compression;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Dapper;
using Kanso.Api.Domain.Portability;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Kanso.Api.Infrastructure.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Features.ExportData;

internal static class ExportDataEndpoint
{
    /// <summary>Rows written between two flushes to the response: the most the export holds in memory.</summary>
    private const int FlushEvery = 500;

    public static RouteGroupBuilder MapExportData(this RouteGroupBuilder group)
    {
        group.MapGet("/export", HandleAsync)
            .WithName("ExportData")
            .WithSummary("The account's data to take away: one JSON document (default) or, with ?format=csv, a zip of habits.csv, entries.csv, time_off.csv and settings.csv.")
            .WithDescription("Streamed from one database snapshot, so memory stays flat whatever the account's size. " +
                "The JSON document is `{format_version, exported_at, user, settings, habits, entries, time_off}` with every live record, ids and versions included; POST /import takes it back.")
            .WithTags("Data")
            .Produces(StatusCodes.Status200OK, contentType: KansoDocument.JsonContentType, additionalContentTypes: KansoDocument.ZipContentType)
            .DisableRequestTimeout();
        return group;
    }

    private static IResult HandleAsync(
        [FromQuery] string? format, ClaimsPrincipal principal, NpgsqlDataSource db, IClock clock, IOptions<JsonOptions> json, HttpContext http)
    {
        var userId = principal.GetUserId();
        var now = clock.GetCurrentInstant();
        var stamp = now.ToString("uuuuMMdd", CultureInfo.InvariantCulture);
        var ct = http.RequestAborted;
        return format switch
        {
            null or "" or "json" => TypedResults.Stream(
                body => WriteJsonAsync(body, db, userId, now, json.Value.SerializerOptions, ct), KansoDocument.JsonContentType, $"kanso-export-{stamp}.json"),
            "csv" => TypedResults.Stream(
                body => WriteCsvZipAsync(body, db, userId, ct), KansoDocument.ZipContentType, $"kanso-export-{stamp}.zip"),
            _ => Problems.Invalid("format", "'format' must be json or csv."),
        };
    }

    private static async Task WriteJsonAsync(Stream body, NpgsqlDataSource db, Guid userId, Instant now, JsonSerializerOptions options, CancellationToken ct)
    {
        await using var snapshot = await ExportSnapshot.OpenAsync(db, userId, ct);

        // The serializer flushes its writer synchronously; over a pipe that only hands buffers on,
        // and the pipe's FlushAsync does the writing, every FlushEvery rows.
        var pipe = System.IO.Pipelines.PipeWriter.Create(body, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: true));
        await using var writer = new Utf8JsonWriter(pipe);
        writer.WriteStartObject();
        writer.WriteNumber("format_version", KansoDocument.FormatVersion);
        writer.WriteString("exported_at", WireFormat.Format(now));
        writer.WritePropertyName("user");
        JsonSerializer.Serialize(writer, snapshot.User, options);
        writer.WritePropertyName("settings");
        JsonSerializer.Serialize(writer, SettingsResponse.From(snapshot.Settings), options);

        writer.WriteStartArray("habits");
        var rows = 0;
        await foreach (var habit in snapshot.HabitsAsync())
        {
            JsonSerializer.Serialize(writer, HabitResponse.From(habit), options);
            if (++rows % FlushEvery == 0)
            {
                await FlushAsync(writer, pipe, ct);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("entries");
        await foreach (var entry in snapshot.EntriesAsync())
        {
            JsonSerializer.Serialize(writer, EntryResponse.From(entry), options);
            if (++rows % FlushEvery == 0)
            {
                await FlushAsync(writer, pipe, ct);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("time_off");
        await foreach (var timeOff in snapshot.TimeOffAsync())
        {
            JsonSerializer.Serialize(writer, TimeOffResponse.From(timeOff), options);
            if (++rows % FlushEvery == 0)
            {
                await FlushAsync(writer, pipe, ct);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await FlushAsync(writer, pipe, ct);
        await pipe.CompleteAsync();
    }

    private static async Task FlushAsync(Utf8JsonWriter writer, System.IO.Pipelines.PipeWriter pipe, CancellationToken ct)
    {
        writer.Flush();
        await pipe.FlushAsync(ct);
    }

    private static async Task WriteCsvZipAsync(Stream body, NpgsqlDataSource db, Guid userId, CancellationToken ct)
    {
        await using var snapshot = await ExportSnapshot.OpenAsync(db, userId, ct);

        // ZipArchive writes (and closes its entries) synchronously, so it writes into a small
        // in-memory chunk that is handed to the response asynchronously every FlushEvery rows.
        var chunk = new ChunkStream();
        var titles = new Dictionary<Guid, string>();
        using (var zip = new ZipArchive(chunk, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var habits = new StreamWriter(zip.CreateEntry("habits.csv").Open(), new UTF8Encoding(false)))
            {
                await habits.WriteAsync(Csv.Line(
                    "id", "title", "description", "color", "icon", "sort_order", "type", "target_value", "unit", "goal", "frequency_type", "weekdays",
                    "interval", "times_per_week", "reminder_time", "start_date", "end_date", "archived_at", "current_streak", "longest_streak",
                    "version", "created_at", "updated_at"));
                var rows = 0;
                await foreach (var h in snapshot.HabitsAsync())
                {
                    titles[h.Id] = h.Title;
                    await habits.WriteAsync(Csv.Line(
                        h.Id.ToString(), Csv.Text(h.Title), Csv.Text(h.Description), h.Color, Csv.Text(h.Icon), Csv.Integer(h.SortOrder), h.Type,
                        Csv.Number(h.TargetValue), Csv.Text(h.Unit), h.Goal, h.FrequencyType, h.Weekdays is null ? null : string.Join(' ', h.Weekdays),
                        Csv.Integer(h.Interval), Csv.Integer(h.TimesPerWeek), h.ReminderTime, Csv.Instant(h.StartDate), Csv.Instant(h.EndDate),
                        Csv.Instant(h.ArchivedAt), Csv.Integer(h.CurrentStreak), Csv.Integer(h.LongestStreak), Csv.Integer(h.Version),
                        Csv.Instant(h.CreatedAt), Csv.Instant(h.UpdatedAt)));
                    if (++rows % FlushEvery == 0)
                    {
                        await habits.FlushAsync(ct);
                        await chunk.DrainToAsync(body, ct);
                    }
                }
            }

            await chunk.DrainToAsync(body, ct);
            using (var entries = new StreamWriter(zip.CreateEntry("entries.csv").Open(), new UTF8Encoding(false)))
            {
                await entries.WriteAsync(Csv.Line("id", "habit_id", "habit_title", "completion_date", "local_date", "kind", "value", "notes", "version", "created_at", "updated_at"));
                var rows = 0;
                await foreach (var e in snapshot.EntriesAsync())
                {
                    await entries.WriteAsync(Csv.Line(
                        e.Id.ToString(), e.HabitId.ToString(), Csv.Text(titles.GetValueOrDefault(e.HabitId)), Csv.Instant(e.CompletionDate),
                        WireFormat.Format(e.LocalDate), e.Kind, Csv.Number(e.Value), Csv.Text(e.Notes), Csv.Integer(e.Version),
                        Csv.Instant(e.CreatedAt), Csv.Instant(e.UpdatedAt)));
                    if (++rows % FlushEvery == 0)
                    {
                        await entries.FlushAsync(ct);
                        await chunk.DrainToAsync(body, ct);
                    }
                }
            }

            await chunk.DrainToAsync(body, ct);
            using (var timeOff = new StreamWriter(zip.CreateEntry("time_off.csv").Open(), new UTF8Encoding(false)))
            {
                await timeOff.WriteAsync(Csv.Line("id", "start_date", "end_date", "habit_ids", "note", "version", "created_at", "updated_at"));
                var rows = 0;
                await foreach (var t in snapshot.TimeOffAsync())
                {
                    await timeOff.WriteAsync(Csv.Line(
                        t.Id.ToString(), WireFormat.Format(t.StartDate), WireFormat.Format(t.EndDate),
                        t.HabitIds is null ? null : string.Join(' ', t.HabitIds), Csv.Text(t.Note), Csv.Integer(t.Version),
                        Csv.Instant(t.CreatedAt), Csv.Instant(t.UpdatedAt)));
                    if (++rows % FlushEvery == 0)
                    {
                        await timeOff.FlushAsync(ct);
                        await chunk.DrainToAsync(body, ct);
                    }
                }
            }

            using (var settings = new StreamWriter(zip.CreateEntry("settings.csv").Open(), new UTF8Encoding(false)))
            {
                var s = SettingsResponse.From(snapshot.Settings);
                await settings.WriteAsync(Csv.Line("timezone", "day_start", "version"));
                await settings.WriteAsync(Csv.Line(s.Timezone, s.DayStart, Csv.Integer(s.Version)));
            }
        }

        await chunk.DrainToAsync(body, ct);
    }
}

/// <summary>A write-only, forward-only stream that keeps what was written until it is drained to another stream.</summary>
internal sealed class ChunkStream : Stream
{
    private readonly MemoryStream _pending = new();
    private long _written;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        _pending.Write(buffer, offset, count);
        _written += count;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _pending.Write(buffer);
        _written += buffer.Length;
    }

    public async Task DrainToAsync(Stream target, CancellationToken ct)
    {
        if (_pending.Length == 0)
        {
            return;
        }

        await target.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), ct);
        await target.FlushAsync(ct);
        _pending.SetLength(0);
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>The account's owner as the document names them.</summary>
internal sealed record ExportUser(Guid Id, string Email, string Timezone, Instant CreatedAt);

/// <summary>
/// One read-only, repeatable-read transaction: the user and every live record, read in one snapshot,
/// row by row (unbuffered), so nothing but the row in hand is held in memory.
/// </summary>
internal sealed class ExportSnapshot : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly Guid _userId;

    private ExportSnapshot(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, ExportUser user, UserSettingsRecord settings)
    {
        _connection = connection;
        _transaction = transaction;
        _userId = userId;
        User = user;
        Settings = settings;
    }

    public ExportUser User { get; }

    public UserSettingsRecord Settings { get; }

    public static async Task<ExportSnapshot> OpenAsync(NpgsqlDataSource db, Guid userId, CancellationToken ct)
    {
        var connection = await db.OpenConnectionAsync(ct);
        try
        {
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            await connection.ExecuteAsync(new CommandDefinition("SET TRANSACTION READ ONLY", transaction: transaction, cancellationToken: ct));
            var user = await connection.QuerySingleOrDefaultAsync<ExportUser>(new CommandDefinition(ExportDataSql.User, new { userId }, transaction, cancellationToken: ct))
                ?? throw new InvalidOperationException("The account vanished during its export.");
            var settings = await connection.QuerySingleAsync<UserSettingsRecord>(new CommandDefinition(SettingsSql.Find, new { userId }, transaction, cancellationToken: ct));
            return new ExportSnapshot(connection, transaction, userId, user, settings);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public IAsyncEnumerable<HabitRecord> HabitsAsync() => StreamAsync<HabitRecord>(ExportDataSql.Habits);

    public IAsyncEnumerable<EntryRecord> EntriesAsync() => StreamAsync<EntryRecord>(ExportDataSql.Entries);

    public IAsyncEnumerable<TimeOffRecord> TimeOffAsync() => StreamAsync<TimeOffRecord>(TimeOffSql.Live);

    // Row by row with Dapper's row parser over Npgsql's own reader: Dapper's QueryUnbufferedAsync
    // cancels its command when the enumeration ends (a PostgreSQL cancel request per list).
    private async IAsyncEnumerable<T> StreamAsync<T>(string sql)
    {
        await using var command = new NpgsqlCommand(sql, _connection, _transaction) { CommandTimeout = ExportDataSql.TimeoutSeconds };
        command.Parameters.AddWithValue("userId", _userId);
        await using var reader = await command.ExecuteReaderAsync();
        var parse = reader.GetRowParser<T>();
        while (await reader.ReadAsync())
        {
            yield return parse(reader);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}

/// <summary>RFC 4180 cells; text that a spreadsheet would run as a formula is prefixed with '.</summary>
internal static class Csv
{
    public static string Line(params string?[] cells)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            var cell = cells[i] ?? "";
            if (cell.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                line.Append('"').Append(cell.Replace("\"", "\"\"")).Append('"');
            }
            else
            {
                line.Append(cell);
            }
        }

        return line.Append("\r\n").ToString();
    }

    public static string? Text(string? value) =>
        value is { Length: > 0 } && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;

    public static string? Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string? Integer(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    public static string? Instant(Instant? value) => value is { } v ? WireFormat.Format(v) : null;
}

internal static class ExportDataSql
{
    public const int TimeoutSeconds = 600;

    public const string User = "SELECT id, email, timezone, created_at FROM users WHERE id = @userId";

    public const string Habits = $"SELECT {HabitSql.Columns} FROM habits WHERE user_id = @userId AND deleted_at IS NULL ORDER BY sort_order, created_at, id";

    public const string Entries = $"SELECT {EntrySql.Columns} FROM habit_entries WHERE user_id = @userId AND deleted_at IS NULL ORDER BY habit_id, completion_date, id";
}
