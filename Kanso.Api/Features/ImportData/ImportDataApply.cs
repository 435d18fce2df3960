using Dapper;
using FluentValidation;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Json;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Features.ImportData;

/// <summary>A habit to import, validated and in its stored form.</summary>
internal sealed record PlannedHabit(Guid Id, HabitValues Values, int Version, Instant? CreatedAt);

/// <summary>An entry to import, validated; <paramref name="Index"/> is its place in the document (for errors).</summary>
internal sealed record PlannedEntry(int Index, Guid Id, Guid HabitId, Instant CompletionDate, double Value, string? Notes, int Version, Instant? CreatedAt);

internal sealed record ImportPlan(string Format, List<PlannedHabit> Habits, List<PlannedEntry> Entries);

/// <summary>The outcome of applying a plan: the answer, or field errors (nothing applied).</summary>
internal sealed record ImportOutcome(ImportDataResponse? Response, IDictionary<string, string[]>? Errors, IReadOnlyCollection<Guid> TouchedHabits);

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

    public static (ImportPlan? Plan, IDictionary<string, string[]>? Errors) Plan(string format, IReadOnlyList<ImportHabit?> habits, IReadOnlyList<ImportEntry?> entries, Instant now)
    {
        var errors = new Dictionary<string, string[]>();
        if (habits.Count > ImportLimits.MaxHabits)
        {
            errors["habits"] = [$"At most {ImportLimits.MaxHabits} habits per import."];
        }

        if (entries.Count > ImportLimits.MaxEntries)
        {
            errors["entries"] = [$"At most {ImportLimits.MaxEntries} entries per import."];
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
                EntryRules.Stored(entry.Value.PatchRequired(EntryRules.DefaultValue)), entry.Notes.Patch(null), entry.Version ?? 1, entry.CreatedAt));
        }

        return errors.Count > 0 ? (null, errors) : (new ImportPlan(format, plannedHabits, plannedEntries), null);
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
                values = chunk.Select(e => e.Value).ToArray(),
                notes = chunk.Select(e => e.Notes).ToArray(),
                versions = chunk.Select(e => e.Version).ToArray(),
                createdAts = chunk.Select(e => e.CreatedAt ?? now).ToArray(),
                now,
                changeSeq,
            }, transaction, commandTimeout: 300, cancellationToken: ct));
        }

        // Streaks of every habit that gained entries (new habits are inserted dirty already).
        var touched = newEntries.Select(e => e.HabitId).Concat(newHabits.Select(h => h.Id)).ToHashSet();
        await connection.ExecuteAsync(new CommandDefinition(
            ImportDataSql.MarkDirty, new { userId, ids = touched.ToArray() }, transaction, cancellationToken: ct));

        var response = new ImportDataResponse(
            plan.Format,
            new ImportCounts(newHabits.Count, habitsUnchanged, plan.Habits.Count - newHabits.Count - habitsUnchanged),
            new ImportCounts(newEntries.Count, entriesUnchanged, plan.Entries.Count - newEntries.Count - entriesUnchanged),
            [.. conflicts.Take(ImportLimits.MaxConflictIds)]);
        return new ImportOutcome(response, null, touched);
    }

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

    // Streaks start at 0 and dirty: the streak worker computes them from the entries.
    public const string InsertHabit = """
        INSERT INTO habits (user_id, id, title, description, color, icon, sort_order, type, target_value, unit,
            frequency_type, weekdays, "interval", times_per_week, reminder_time, start_date, end_date, archived_at,
            streak_dirty, version, created_at, updated_at, change_seq)
        VALUES (@userId, @id, @title::text, @description::text, @color::text, @icon::text, @sortOrder::integer, @type::text,
            @targetValue::double precision, @unit::text, @frequencyType::text, @weekdays::smallint[], @interval::integer,
            @timesPerWeek::integer, @reminderTime::text, @startDate::timestamptz, @endDate::timestamptz, @archivedAt::timestamptz,
            true, @version::integer, @createdAt::timestamptz, @now::timestamptz, @changeSeq)
        ON CONFLICT (user_id, id) DO NOTHING
        """;

    public const string InsertEntries = """
        INSERT INTO habit_entries (user_id, id, habit_id, completion_date, value, notes, version, created_at, updated_at, change_seq)
        SELECT @userId, e.id, e.habit_id, e.completion_date, e.value, e.notes, e.version, e.created_at, @now::timestamptz, @changeSeq
        FROM unnest(@ids::uuid[], @habitIds::uuid[], @completionDates::timestamptz[], @values::double precision[], @notes::text[],
                    @versions::integer[], @createdAts::timestamptz[]) AS e(id, habit_id, completion_date, value, notes, version, created_at)
        ON CONFLICT (user_id, id) DO NOTHING
        """;

    public const string MarkDirty = "UPDATE habits SET streak_dirty = true WHERE user_id = @userId AND id = ANY(@ids) AND deleted_at IS NULL AND NOT streak_dirty";
}
