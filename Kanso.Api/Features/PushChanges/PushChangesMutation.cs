using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Kanso.Api.Domain.Records;
using Kanso.Api.Infrastructure.Validation;

namespace Kanso.Api.Features.PushChanges;

/// <summary>The four things a mutation can do.</summary>
internal enum PushOp
{
    UpsertHabit,
    DeleteHabit,
    UpsertEntry,
    DeleteEntry,
    UpsertTimeOff,
    DeleteTimeOff,
}

/// <summary>
/// One mutation of a push, parsed on its own: a malformed mutation becomes a rejection with
/// <see cref="Errors"/>, never a 400 for the whole push. <see cref="Hash"/> identifies what the
/// mutation means (op, id, version and the parsed values of the known fields of <c>data</c>), so a
/// replay (same <c>mutation_id</c>, same mutation) can be told from a reused id whatever a retry adds
/// or how it spells a number. A mutation whose parts do not parse is identified by its canonical JSON.
/// </summary>
internal sealed record PushMutation(
    string? MutationId,
    byte[] Hash,
    PushOp Op,
    Guid Id,
    int Version,
    HabitFields? Habit,
    UpdateEntryData? Entry,
    IDictionary<string, string[]>? Errors,
    TimeOffFields? TimeOff = null)
{
    public const int MaxMutationIdLength = 128;

    private static readonly HabitFieldsValidator HabitValidator = new();
    private static readonly EntryFieldsValidator EntryValidator = new();
    private static readonly TimeOffFieldsValidator TimeOffValidator = new();
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    /// <summary>Absent or 0: create; otherwise the version the client last saw (an update, or a checked delete).</summary>
    public bool IsCreate => Version == 0;

    /// <summary>The v1.0 identity (canonical JSON), which results stored before v1.1 were remembered under.</summary>
    public byte[]? JsonHash { get; init; }

    /// <summary>Whether a stored identity is this mutation's: by meaning, or by the v1.0 canonical JSON.</summary>
    public bool IsSameAs(byte[] stored) =>
        stored.AsSpan().SequenceEqual(Hash) || (JsonHash is { } json && stored.AsSpan().SequenceEqual(json));

    /// <param name="protocol">The client's protocol: time off ops exist from protocol 2 on.</param>
    public static PushMutation Parse(JsonElement element, JsonSerializerOptions options, int protocol = 1)
    {
        var hash = CanonicalHash(element);
        try
        {
            return ParseFields(element, options, hash, protocol);
        }
        catch (InvalidOperationException)
        {
            // A string that is not valid Unicode (e.g. a lone surrogate escape) somewhere the checks below did not foresee.
            return Malformed(null, hash, "mutation", "The mutation holds a string that is not valid Unicode.");
        }
    }

    private static PushMutation ParseFields(JsonElement element, JsonSerializerOptions options, byte[] hash, int protocol)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return Malformed(null, hash, "mutation", "A mutation must be a JSON object: {mutation_id, op, id, version, data}.");
        }

        var errors = new Dictionary<string, string[]>();
        var mutationId = ParseMutationId(element, errors);
        var op = ParseOp(element, errors, protocol);
        var id = ParseId(element, errors);
        var version = ParseVersion(element, errors);
        HabitFields? habit = null;
        UpdateEntryData? entry = null;
        TimeOffFields? timeOff = null;
        if (op is PushOp.UpsertHabit or PushOp.UpsertEntry or PushOp.UpsertTimeOff && Data(element, errors) is { } data)
        {
            if (op == PushOp.UpsertHabit && Deserialize<HabitFields>(data, options, errors) is { } fields)
            {
                habit = fields;
                Add(errors, HabitValidator.Validate(fields).ToDictionary());
            }
            else if (op == PushOp.UpsertEntry && Deserialize<UpdateEntryData>(data, options, errors) is { } entryData)
            {
                entry = entryData;
                Add(errors, EntryValidator.Validate(entryData).ToDictionary());
                if (version == 0 && entryData.HabitId is null)
                {
                    errors["habit_id"] = ["'habit_id' is required to create an entry."];
                }

                if (version == 0 && !entryData.CompletionDate.IsSent)
                {
                    errors["completion_date"] = ["'completion_date' is required."];
                }
            }
            else if (op == PushOp.UpsertTimeOff && Deserialize<TimeOffFields>(data, options, errors) is { } timeOffData)
            {
                timeOff = timeOffData;
                Add(errors, TimeOffValidator.Validate(timeOffData).ToDictionary());
            }
        }

        var understood = op is not null && id is not null && version is not null
            && (op is PushOp.DeleteHabit or PushOp.DeleteEntry or PushOp.DeleteTimeOff || habit is not null || entry is not null || timeOff is not null);
        var identity = understood ? MutationIdentity.Hash(op!.Value, id!.Value, version!.Value, habit, entry, timeOff) : hash;
        return new PushMutation(mutationId, identity, op ?? default, id ?? default, version ?? 0, habit, entry, errors.Count == 0 ? null : errors, timeOff)
        {
            JsonHash = hash,
        };
    }

    private static PushMutation Malformed(string? mutationId, byte[] hash, string field, string message) =>
        new(mutationId, hash, default, default, 0, null, null, new Dictionary<string, string[]> { [field] = [message] });

    private static string? ParseMutationId(JsonElement element, Dictionary<string, string[]> errors)
    {
        if (element.TryGetProperty("mutation_id", out var value) && TryGetString(value, out var text)
            && text.Length > 0 && StringRules.CodePoints(text) <= MaxMutationIdLength && !text.Contains('\0', StringComparison.Ordinal))
        {
            return text;
        }

        errors["mutation_id"] = [$"'mutation_id' is required: a string of 1 to {MaxMutationIdLength} characters, unique per mutation (e.g. a UUID)."];
        return null;
    }

    private static PushOp? ParseOp(JsonElement element, Dictionary<string, string[]> errors, int protocol)
    {
        PushOp? op = element.TryGetProperty("op", out var value) && TryGetString(value, out var text) ? text switch
        {
            "upsert_habit" => PushOp.UpsertHabit,
            "delete_habit" => PushOp.DeleteHabit,
            "upsert_entry" => PushOp.UpsertEntry,
            "delete_entry" => PushOp.DeleteEntry,
            "upsert_time_off" when protocol >= 2 => PushOp.UpsertTimeOff,
            "delete_time_off" when protocol >= 2 => PushOp.DeleteTimeOff,
            _ => null,
        } : null;
        if (op is null)
        {
            errors["op"] = [protocol >= 2
                ? "'op' must be upsert_habit, delete_habit, upsert_entry, delete_entry, upsert_time_off or delete_time_off."
                : "'op' must be upsert_habit, delete_habit, upsert_entry or delete_entry (time off needs Kanso-Protocol: 2)."];
        }

        return op;
    }

    private static Guid? ParseId(JsonElement element, Dictionary<string, string[]> errors)
    {
        if (element.TryGetProperty("id", out var value) && TryGetString(value, out var text)
            && Guid.TryParse(text, out var id) && id != Guid.Empty)
        {
            return id;
        }

        errors["id"] = ["'id' is required: the record's UUID (not the nil UUID)."];
        return null;
    }

    private static int? ParseVersion(JsonElement element, Dictionary<string, string[]> errors)
    {
        if (!element.TryGetProperty("version", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return 0;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var version) && version >= 0)
        {
            return version;
        }

        errors["version"] = ["'version' must be a whole number: the version last seen, or 0 (or absent) to create."];
        return null;
    }

    /// <summary>An upsert's <c>data</c>: absent or null is an empty object (a create then misses its required fields).</summary>
    private static JsonElement? Data(JsonElement element, Dictionary<string, string[]> errors)
    {
        if (!element.TryGetProperty("data", out var data) || data.ValueKind == JsonValueKind.Null)
        {
            return EmptyObject;
        }

        if (data.ValueKind == JsonValueKind.Object)
        {
            return data;
        }

        errors["data"] = ["'data' must be an object holding the record's fields."];
        return null;
    }

    private static T? Deserialize<T>(JsonElement data, JsonSerializerOptions options, Dictionary<string, string[]> errors)
        where T : class
    {
        try
        {
            return data.Deserialize<T>(options);
        }
        catch (InvalidOperationException)
        {
            errors["data"] = ["'data' holds a string that is not valid Unicode."];
            return null;
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "data";
            errors[field] = [$"'{field}' has the wrong type or format."];
            return null;
        }
    }

    /// <summary>A JSON string's value; false for other kinds and for strings that are not valid Unicode.</summary>
    private static bool TryGetString(JsonElement value, out string text)
    {
        text = "";
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void Add(Dictionary<string, string[]> errors, IDictionary<string, string[]> more)
    {
        foreach (var (field, messages) in more)
        {
            errors[field] = errors.TryGetValue(field, out var existing) ? [.. existing, .. messages] : messages;
        }
    }

    /// <summary>
    /// SHA-256 of the mutation in a canonical form (object properties sorted, no whitespace, strings
    /// re-escaped), so a retry that serializes the same mutation differently is still the same body.
    /// </summary>
    private static byte[] CanonicalHash(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        try
        {
            using var writer = new Utf8JsonWriter(buffer);
            WriteCanonical(writer, element);
        }
        catch (InvalidOperationException)
        {
            // Not valid Unicode somewhere, so no canonical form: the bytes as sent identify it (read
            // raw: turning them into text would fail the same way).
            return SHA256.HashData(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element));
        }

        return SHA256.HashData(buffer.WrittenSpan);
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}

/// <summary>An <c>upsert_entry</c>'s data: the entry fields, and on create its habit.</summary>
internal sealed record UpdateEntryData : EntryFields
{
    public Guid? HabitId { get; init; }
}
