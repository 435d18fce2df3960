using Dapper;
using FluentValidation;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Json;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Features.ImportData;

/// <summary>A habit to import, validated and in its stored form.</summary>
internal sealed record PlannedHabit(Guid Id, HabitValues Values, int Version, Instant? CreatedAt);

/// <summary>
/// An entry to import, validated; <paramref name="Index"/> is its place in the document (for errors).
/// <paramref name="LocalDate"/> null (a format 1 document, a Loop export): computed like a write's.
/// </summary>
internal sealed record PlannedEntry(
    int Index, Guid Id, Guid HabitId, Instant CompletionDate, LocalDate? LocalDate, string Kind, double Value, string? Notes, int Version, Instant? CreatedAt);

/// <summary>Time off to import, validated (start and end set).</summary>
internal sealed record PlannedTimeOff(Guid Id, TimeOffValues Values, int Version, Instant? CreatedAt);

/// <summary>The document's settings, validated; a null field is one the document leaves out.</summary>
internal sealed record PlannedSettings(string? Timezone, int? DayStartMinutes);

/// <param name="Zone">The request's zone: an entry without local_date takes its day in it, like a write.</param>
internal sealed record ImportPlan(
    string Format, List<PlannedHabit> Habits, List<PlannedEntry> Entries, List<PlannedTimeOff> TimeOff, PlannedSettings? Settings, DateTimeZone Zone);

/// <summary>
/// The outcome of applying a plan: the answer, or field errors (nothing applied); the habits to queue
/// for a streak recompute after commit, and the zone the settings now name when the import set them.
/// </summary>
internal sealed record ImportOutcome(ImportDataResponse? Response, IDictionary<string, string[]>? Errors, IReadOnlyCollection<Guid> TouchedHabits, string? NewTimezone = null)
{
    /// <summary>Whether the import wrote anything (else it is rolled back and uses no change number).</summary>
    public bool Changed => Response is { } r
        && (r.Habits.Created + r.Entries.Created + r.TimeOff.Created > 0 || r.Settings == ImportSettingsOutcome.Applied);
}

/// <summary>
/// Validates a document like every write (the record validators and the merged-habit rules of
/// Domain/Records) and applies it in the caller's transaction: under the user's lock and one change
/// number, new records are inserted in bulk; a record whose id exists with the same content is
/// unchanged, with other content (or deleted) a conflict that is reported, never overwritten.
/// </summary>
internal static class ImportDataApply
{
    private const int Chunk = 10_000;

    private static readonly ImportHabitValidator HabitValidator = new();
    private static readonly ImportEntryValidator EntryValidator = new();
    private static readonly ImportTimeOffValidator TimeOffValidator = new();
    private static readonly SettingsFieldsValidator SettingsValidator = new();

    public static (ImportPlan? Plan, IDictionary<string, string[]>? Errors) Plan(
        string format, IReadOnlyList<ImportHabit?> habits, IReadOnlyList<ImportEntry?> entries, Instant now, DateTimeZone zone,
        IReadOnlyList<ImportTimeOff?>? timeOff = null, ImportSettings? settings = null)
    {
        timeOff ??= [];
        var errors = new Dictionary<string, string[]>();
        if (habits.Count > ImportLimits.MaxHabits)
        {
            errors["habits"] = [$"At most {ImportLimits.MaxHabits} habits per import."];
        }

        if (entries.Count > ImportLimits.MaxEntries)
        {
            errors["entries"] = [$"At most {ImportLimits.MaxEntries} entries per import."];
        }

        if (timeOff.Count > ImportLimits.MaxTimeOff)
        {
            errors["time_off"] = [$"At most {ImportLimits.MaxTimeOff} time off records per import."];
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var plannedHabits = new List<PlannedHabit>(habits.Count);
        var habitIds = new HashSet<Guid>();
        for (var i = 0; i < habits.Count && errors.Count < ImportLimits.MaxErrors; i++)
        {
            if (habits[i]?.WithoutNulls() is not { } habit)
            {
                errors[$"habits[{i}]"] = ["A habit must be an object."];
                continue;
            }

            var result = HabitValidator.Validate(habit);
            if (!result.IsValid)
            {
                AddErrors(errors, $"habits[{i}]", result.ToDictionary());
                continue;
            }

            var values = HabitValues.Defaults(now).Apply(habit);
            if (values.Errors() is { } merged)
            {
                AddErrors(errors, $"habits[{i}]", merged);
                continue;
            }

            if (!habitIds.Add(habit.Id!.Value))
            {
                errors[$"habits[{i}].id"] = ["'id' appears twice in the document."];
                continue;
            }

            var normalized = values.Normalize() with
            {
                StartDate = WireFormat.TruncateToMicroseconds(values.StartDate),
                EndDate = values.EndDate is { } end ? WireFormat.TruncateToMicroseconds(end) : null,
                ArchivedAt = values.ArchivedAt is { } archived ? WireFormat.TruncateToMicroseconds(archived) : null,
            };
            plannedHabits.Add(new PlannedHabit(habit.Id.Value, normalized, habit.Version ?? 1, habit.CreatedAt));
        }

        var plannedEntries = new List<PlannedEntry>(entries.Count);
        var entryIds = new HashSet<Guid>();
        for (var i = 0; i < entries.Count && errors.Count < ImportLimits.MaxErrors; i++)
        {
            if (entries[i]?.WithoutNulls() is not { } entry)
            {
                errors[$"entries[{i}]"] = ["An entry must be an object."];
                continue;
            }

            var result = EntryValidator.Validate(entry);
            if (!result.IsValid)
            {
                AddErrors(errors, $"entries[{i}]", result.ToDictionary());
                continue;
            }

            if (!entryIds.Add(entry.Id!.Value))
            {
                errors[$"entries[{i}].id"] = ["'id' appears twice in the document."];
                continue;
            }

            plannedEntries.Add(new PlannedEntry(
                i, entry.Id.Value, entry.HabitId!.Value, WireFormat.TruncateToMicroseconds(entry.CompletionDate.Value),
                entry.LocalDate.HasValue ? entry.LocalDate.Value : null, entry.Kind.PatchRequired(EntryRules.Done),
                EntryRules.Stored(entry.Value.PatchRequired(EntryRules.DefaultValue)), entry.Notes.Patch(null), entry.Version ?? 1, entry.CreatedAt));
        }

        // Time off: the rules of POST /time-off (habit_ids are not checked to exist, as there).
        var plannedTimeOff = new List<PlannedTimeOff>(timeOff.Count);
        var timeOffIds = new HashSet<Guid>();
        for (var i = 0; i < timeOff.Count && errors.Count < ImportLimits.MaxErrors; i++)
        {
            if (timeOff[i] is not { } record)
            {
                errors[$"time_off[{i}]"] = ["Time off must be an object."];
                continue;
            }

            var result = TimeOffValidator.Validate(record);
            if (!result.IsValid)
            {
                AddErrors(errors, $"time_off[{i}]", result.ToDictionary());
                continue;
            }

            var values = new TimeOffValues(null, null, null, null).Apply(record);
            if (values.Errors() is { } merged)
            {
                AddErrors(errors, $"time_off[{i}]", merged);
                continue;
            }

            if (!timeOffIds.Add(record.Id!.Value))
            {
                errors[$"time_off[{i}].id"] = ["'id' appears twice in the document."];
                continue;
            }

            plannedTimeOff.Add(new PlannedTimeOff(record.Id.Value, values, record.Version ?? 1, record.CreatedAt));
        }

        // Settings: the rules of PUT /settings.
        PlannedSettings? plannedSettings = null;
        if (settings is not null)
        {
            var result = SettingsValidator.Validate(settings);
            if (!result.IsValid)
            {
                AddErrors(errors, "settings", result.ToDictionary());
            }
            else if (settings.Timezone.HasValue || settings.DayStart.HasValue)
            {
                plannedSettings = new PlannedSettings(
                    settings.Timezone.HasValue ? DateTimeZoneProviders.Tzdb[settings.Timezone.Value].Id : null,
                    settings.DayStart.HasValue && SettingsRules.TryParseDayStart(settings.DayStart.Value, out var minutes) ? minutes : null);
            }
        }

        return errors.Count > 0
            ? (null, errors)
            : (new ImportPlan(format, plannedHabits, plannedEntries, plannedTimeOff, plannedSettings, zone), null);
    }

    public static async Task<ImportOutcome> ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, ImportPlan plan, CancellationToken ct)
    {
        // The user's lock and one change number for everything the import writes.
        if (await ChangeSequence.NextAsync(connection, transaction, userId, ct) is not { } change)
        {
            return new ImportOutcome(null, new Dictionary<string, string[]> { ["user"] = ["The account no longer exists."] }, []);
        }

        // The change's instant is read after the lock, like every writer's, so the earlier API's timestamp sync never misses the import.
        var (changeSeq, now) = (change.Number, change.At);
        var conflicts = new List<Guid>();
        var touched = new HashSet<Guid>();

        // Settings first: entries without local_date take their day under the day start the import leaves.
        var settings = await SettingsWrites.FindAsync(connection, transaction, userId, ct)
            ?? throw new InvalidOperationException("The account vanished under its own lock.");
        var settingsOutcome = ImportSettingsOutcome.Absent;
        string? newTimezone = null;
        if (plan.Settings is { } wanted)
        {
            if ((wanted.Timezone ?? settings.Timezone) == settings.Timezone && (wanted.DayStartMinutes ?? settings.DayStartMinutes) == settings.DayStartMinutes)
            {
                settingsOutcome = ImportSettingsOutcome.Unchanged;
            }
            else if (settings.SettingsVersion == SettingsRules.NeverSetVersion
                && await SettingsWrites.ApplyAsync(connection, transaction, userId, SettingsRules.NeverSetVersion, wanted.Timezone, wanted.DayStartMinutes, changeSeq, ct)
                    is { Applied: true } applied)
            {
                // Like PUT /settings: every live habit's "today" may have moved.
                settingsOutcome = ImportSettingsOutcome.Applied;
                settings = applied.Settings;
                newTimezone = applied.Settings.Timezone;
                touched.UnionWith(applied.DirtyHabits);
            }
            else
            {
                // The account's own settings (set by PUT /settings or an earlier import) are kept.
                settingsOutcome = ImportSettingsOutcome.Conflict;
            }
        }

        // Habits.
        var existingHabits = (await connection.QueryAsync<HabitRecord>(new CommandDefinition(
            ImportDataSql.ExistingHabits, new { userId, ids = plan.Habits.Select(h => h.Id).ToArray() }, transaction, cancellationToken: ct)))
            .ToDictionary(h => h.Id);
        var newHabits = new List<PlannedHabit>();
        var habitsUnchanged = 0;
        foreach (var habit in plan.Habits)
        {
            if (!existingHabits.TryGetValue(habit.Id, out var stored))
            {
                newHabits.Add(habit);
            }
            else if (!stored.IsDeleted && Same(HabitValues.From(stored), habit.Values))
            {
                habitsUnchanged++;
            }
            else
            {
                conflicts.Add(habit.Id);
            }
        }

        foreach (var habit in newHabits)
        {
            var v = habit.Values;
            await connection.ExecuteAsync(new CommandDefinition(ImportDataSql.InsertHabit, new
            {
                userId,
                id = habit.Id,
                title = v.Title,
                description = v.Description,
                color = v.Color,
                icon = v.Icon,
                sortOrder = v.SortOrder,
                type = v.Type,
                targetValue = v.TargetValue,
                unit = v.Unit,
                goal = v.Goal,
                frequencyType = v.FrequencyType,
                weekdays = v.Weekdays,
                interval = v.Interval,
                timesPerWeek = v.TimesPerWeek,
                reminderTime = v.ReminderTime,
                startDate = v.StartDate,
                endDate = v.EndDate,
                archivedAt = v.ArchivedAt,
                version = habit.Version,
                createdAt = habit.CreatedAt ?? now,
                now,
                changeSeq,
            }, transaction, cancellationToken: ct));
        }

        // Entries: their habit must be live in the account now (in the document or already there).
        var referenced = plan.Entries.Select(e => e.HabitId).Distinct().ToArray();
        var liveHabits = (await connection.QueryAsync<Guid>(new CommandDefinition(
            ImportDataSql.LiveHabits, new { userId, ids = referenced }, transaction, cancellationToken: ct))).ToHashSet();
        var documentHabits = plan.Habits.Select(h => h.Id).ToHashSet();
        var errors = new Dictionary<string, string[]>();
        foreach (var entry in plan.Entries)
        {
            if (!liveHabits.Contains(entry.HabitId) && !documentHabits.Contains(entry.HabitId) && errors.Count < ImportLimits.MaxErrors)
            {
                errors[$"entries[{entry.Index}].habit_id"] = ["'habit_id' is neither a habit of the document nor a live habit of the account."];
            }
        }

        if (errors.Count > 0)
        {
            return new ImportOutcome(null, errors, []);
        }

        // Time off: like POST /time-off, a new record marks the live habits it covers for a streak recompute.
        var existingTimeOff = (await connection.QueryAsync<TimeOffRecord>(new CommandDefinition(
            ImportDataSql.ExistingTimeOff, new { userId, ids = plan.TimeOff.Select(t => t.Id).ToArray() }, transaction, cancellationToken: ct)))
            .ToDictionary(t => t.Id);
        var newTimeOff = new List<PlannedTimeOff>();
        var timeOffUnchanged = 0;
        foreach (var timeOff in plan.TimeOff)
        {
            if (!existingTimeOff.TryGetValue(timeOff.Id, out var stored))
            {
                newTimeOff.Add(timeOff);
            }
            else if (!stored.IsDeleted && Same(TimeOffValues.From(stored), timeOff.Values))
            {
                timeOffUnchanged++;
            }
            else
            {
                conflicts.Add(timeOff.Id);
            }
        }

        foreach (var timeOff in newTimeOff)
        {
            var v = timeOff.Values;
            await connection.ExecuteAsync(new CommandDefinition(ImportDataSql.InsertTimeOff, new
            {
                userId,
                id = timeOff.Id,
                startDate = v.StartDate,
                endDate = v.EndDate,
                habitIds = v.HabitIds,
                note = v.Note,
                version = timeOff.Version,
                createdAt = timeOff.CreatedAt ?? now,
                now,
                changeSeq,
            }, transaction, cancellationToken: ct));
        }

        if (newTimeOff.Count > 0)
        {
            touched.UnionWith(await connection.QueryAsync<Guid>(new CommandDefinition(TimeOffSql.MarkHabitsDirty, new
            {
                userId,
                all = newTimeOff.Any(t => t.Values.HabitIds is null),
                ids = newTimeOff.SelectMany(t => t.Values.HabitIds ?? []).Distinct().ToArray(),
            }, transaction, cancellationToken: ct)));
        }

        var newEntries = new List<PlannedEntry>();
        var entriesUnchanged = 0;
        foreach (var chunk in plan.Entries.Chunk(Chunk))
        {
            var stored = (await connection.QueryAsync<EntryRecord>(new CommandDefinition(
                ImportDataSql.ExistingEntries, new { userId, ids = chunk.Select(e => e.Id).ToArray() }, transaction, cancellationToken: ct)))
                .ToDictionary(e => e.Id);
            foreach (var entry in chunk)
            {
                if (stored.TryGetValue(entry.Id, out var current))
                {
                    if (!current.IsDeleted && current.HabitId == entry.HabitId && current.CompletionDate == entry.CompletionDate
                        && (entry.LocalDate is null || current.LocalDate == entry.LocalDate) && current.Kind == entry.Kind
                        && current.Value.Equals(entry.Value) && current.Notes == entry.Notes)
                    {
                        entriesUnchanged++;
                    }
                    else
                    {
                        conflicts.Add(entry.Id);
                    }
                }
                else if (!liveHabits.Contains(entry.HabitId))
                {
                    // Its habit is in the document but is a deleted one of the account (a conflict above).
                    conflicts.Add(entry.Id);
                }
                else
                {
                    newEntries.Add(entry);
                }
            }
        }

        foreach (var chunk in newEntries.Chunk(Chunk))
        {
            await connection.ExecuteAsync(new CommandDefinition(ImportDataSql.InsertEntries, new
            {
                userId,
                ids = chunk.Select(e => e.Id).ToArray(),
                habitIds = chunk.Select(e => e.HabitId).ToArray(),
                completionDates = chunk.Select(e => e.CompletionDate).ToArray(),
                localDates = chunk.Select(e => e.LocalDate ?? LocalDays.DateOf(e.CompletionDate, plan.Zone, settings.DayStartMinutes)).ToArray(),
                kinds = chunk.Select(e => e.Kind).ToArray(),
                values = chunk.Select(e => e.Value).ToArray(),
                notes = chunk.Select(e => e.Notes).ToArray(),
                versions = chunk.Select(e => e.Version).ToArray(),
                createdAts = chunk.Select(e => e.CreatedAt ?? now).ToArray(),
                now,
                changeSeq,
            }, transaction, commandTimeout: 300, cancellationToken: ct));
        }

        // Streaks of every habit that gained entries (new habits are inserted dirty already).
        var gained = newEntries.Select(e => e.HabitId).Concat(newHabits.Select(h => h.Id)).ToHashSet();
        await connection.ExecuteAsync(new CommandDefinition(
            ImportDataSql.MarkDirty, new { userId, ids = gained.ToArray() }, transaction, cancellationToken: ct));
        touched.UnionWith(gained);

        var response = new ImportDataResponse(
            plan.Format,
            new ImportCounts(newHabits.Count, habitsUnchanged, plan.Habits.Count - newHabits.Count - habitsUnchanged),
            new ImportCounts(newEntries.Count, entriesUnchanged, plan.Entries.Count - newEntries.Count - entriesUnchanged),
            new ImportCounts(newTimeOff.Count, timeOffUnchanged, plan.TimeOff.Count - newTimeOff.Count - timeOffUnchanged),
            settingsOutcome,
            [.. conflicts.Take(ImportLimits.MaxConflictIds)]);
        return new ImportOutcome(response, null, touched, newTimezone);
    }

    /// <summary>Whether stored time off already holds what the document says (habit_ids as a set).</summary>
    private static bool Same(TimeOffValues stored, TimeOffValues imported) =>
        stored.StartDate == imported.StartDate && stored.EndDate == imported.EndDate && stored.Note == imported.Note
        && (stored.HabitIds is null) == (imported.HabitIds is null)
        && (stored.HabitIds is null || stored.HabitIds.ToHashSet().SetEquals(imported.HabitIds!));

    /// <summary>Whether the stored habit already holds what the document says (its editable fields).</summary>
    private static bool Same(HabitValues stored, HabitValues imported) =>
        stored with { Weekdays = null } == imported with { Weekdays = null }
        && (stored.Weekdays ?? []).SequenceEqual(imported.Weekdays ?? []);

    private static void AddErrors(Dictionary<string, string[]> errors, string prefix, IDictionary<string, string[]> fieldErrors)
    {
        foreach (var (field, messages) in fieldErrors)
        {
            errors[$"{prefix}.{Snake(field)}"] = messages;
        }
    }

    private static string Snake(string name) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}

internal static class ImportDataSql
{
    public const string ExistingHabits = $"SELECT {HabitSql.Columns} FROM habits WHERE user_id = @userId AND id = ANY(@ids)";

    public const string LiveHabits = "SELECT id FROM habits WHERE user_id = @userId AND deleted_at IS NULL AND id = ANY(@ids)";

    public const string ExistingEntries = $"SELECT {EntrySql.Columns} FROM habit_entries WHERE user_id = @userId AND id = ANY(@ids)";

    public const string ExistingTimeOff = $"SELECT {TimeOffSql.Columns} FROM time_off WHERE user_id = @userId AND id = ANY(@ids)";

    public const string InsertTimeOff = """
        INSERT INTO time_off (user_id, id, start_date, end_date, habit_ids, note, version, created_at, updated_at, change_seq)
        VALUES (@userId, @id, @startDate::date, @endDate::date, @habitIds::uuid[], @note::text, @version::integer,
            @createdAt::timestamptz, @now::timestamptz, @changeSeq)
        ON CONFLICT (user_id, id) DO NOTHING
        """;

    // Streaks start at 0 and dirty: the streak worker computes them from the entries.
    public const string InsertHabit = """
        INSERT INTO habits (user_id, id, title, description, color, icon, sort_order, type, target_value, unit, goal,
            frequency_type, weekdays, "interval", times_per_week, reminder_time, start_date, end_date, archived_at,
            streak_dirty, version, created_at, updated_at, change_seq)
        VALUES (@userId, @id, @title::text, @description::text, @color::text, @icon::text, @sortOrder::integer, @type::text,
            @targetValue::double precision, @unit::text, @goal::text, @frequencyType::text, @weekdays::smallint[], @interval::integer,
            @timesPerWeek::integer, @reminderTime::text, @startDate::timestamptz, @endDate::timestamptz, @archivedAt::timestamptz,
            true, @version::integer, @createdAt::timestamptz, @now::timestamptz, @changeSeq)
        ON CONFLICT (user_id, id) DO NOTHING
        """;

    public const string InsertEntries = """
        INSERT INTO habit_entries (user_id, id, habit_id, completion_date, local_date, kind, value, notes, version, created_at, updated_at, change_seq)
        SELECT @userId, e.id, e.habit_id, e.completion_date, e.local_date, e.kind, e.value, e.notes, e.version, e.created_at, @now::timestamptz, @changeSeq
        FROM unnest(@ids::uuid[], @habitIds::uuid[], @completionDates::timestamptz[], @localDates::date[], @kinds::text[],
                    @values::double precision[], @notes::text[], @versions::integer[], @createdAts::timestamptz[])
            AS e(id, habit_id, completion_date, local_date, kind, value, notes, version, created_at)
        ON CONFLICT (user_id, id) DO NOTHING
        """;

    // Entries of any date: the streak worker walks the whole history ('-infinity', see StreakCheckpoint).
    public const string MarkDirty = "UPDATE habits SET streak_dirty = true, streak_dirty_from = '-infinity' WHERE user_id = @userId AND id = ANY(@ids) AND deleted_at IS NULL";
}
