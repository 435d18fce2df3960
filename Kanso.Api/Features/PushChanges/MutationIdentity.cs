using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Kanso.Api.Domain.Records;
using Kanso.Api.Infrastructure.Json;
using NodaTime;
using NodaTime.Text;

namespace Kanso.Api.Features.PushChanges;

/// <summary>
/// What a mutation means, as a SHA-256: op, id, version and each known field of <c>data</c> as
/// absent, null or its parsed value. Unknown properties, property order, the case of a UUID, the
/// offset an instant was written in and the spelling of a number (<c>1</c>, <c>1.0</c>, <c>1e0</c>)
/// do not count. Deletes ignore <c>data</c>, as they do when applied.
/// </summary>
internal static class MutationIdentity
{
    public static byte[] Hash(PushOp op, Guid id, int version, HabitFields? habit, UpdateEntryData? entry, TimeOffFields? timeOff = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            w.WriteStringValue("v1.1");
            w.WriteNumberValue((int)op);
            w.WriteStringValue(id.ToString("N"));
            w.WriteNumberValue(version);
            if (op == PushOp.UpsertHabit && habit is not null)
            {
                Write(w, habit.Title, (x, v) => x.WriteStringValue(v));
                Write(w, habit.Description, (x, v) => x.WriteStringValue(v));
                Write(w, habit.Color, (x, v) => x.WriteStringValue(v));
                Write(w, habit.Icon, (x, v) => x.WriteStringValue(v));
                Write(w, habit.SortOrder, (x, v) => x.WriteNumberValue(v));
                Write(w, habit.Type, (x, v) => x.WriteStringValue(v));
                Write(w, habit.TargetValue, WriteDouble);
                Write(w, habit.Unit, (x, v) => x.WriteStringValue(v));
                Write(w, habit.FrequencyType, (x, v) => x.WriteStringValue(v));
                Write(w, habit.Weekdays, (x, v) =>
                {
                    x.WriteStartArray();
                    foreach (var day in v)
                    {
                        x.WriteNumberValue(day);
                    }

                    x.WriteEndArray();
                });
                Write(w, habit.Interval, (x, v) => x.WriteNumberValue(v));
                Write(w, habit.TimesPerWeek, (x, v) => x.WriteNumberValue(v));
                Write(w, habit.ReminderTime, (x, v) => x.WriteStringValue(v));
                Write(w, habit.StartDate, WriteInstant);
                Write(w, habit.EndDate, WriteInstant);
                Write(w, habit.ArchivedAt, WriteInstant);
                Write(w, habit.Goal, (x, v) => x.WriteStringValue(v));
            }
            else if (op == PushOp.UpsertEntry && entry is not null)
            {
                w.WriteStringValue(entry.HabitId?.ToString("N") ?? "-");
                Write(w, entry.CompletionDate, WriteInstant);
                Write(w, entry.Value, WriteDouble);
                Write(w, entry.Notes, (x, v) => x.WriteStringValue(v));
                Write(w, entry.LocalDate, (x, v) => x.WriteStringValue(LocalDatePattern.Iso.Format(v)));
                Write(w, entry.Kind, (x, v) => x.WriteStringValue(v));
            }
            else if (op == PushOp.UpsertTimeOff && timeOff is not null)
            {
                Write(w, timeOff.StartDate, (x, v) => x.WriteStringValue(LocalDatePattern.Iso.Format(v)));
                Write(w, timeOff.EndDate, (x, v) => x.WriteStringValue(LocalDatePattern.Iso.Format(v)));
                Write(w, timeOff.HabitIds, (x, v) =>
                {
                    x.WriteStartArray();
                    foreach (var habitId in v)
                    {
                        x.WriteStringValue(habitId.ToString("N"));
                    }

                    x.WriteEndArray();
                });
                Write(w, timeOff.Note, (x, v) => x.WriteStringValue(v));
            }

            w.WriteEndArray();
        }

        return SHA256.HashData(buffer.WrittenSpan);
    }

    /// <summary>Absent and null are told apart: one clears a field, the other leaves it.</summary>
    private static void Write<T>(Utf8JsonWriter writer, Optional<T> field, Action<Utf8JsonWriter, T> value)
    {
        switch (field.State)
        {
            case OptionalState.Absent:
                writer.WriteStringValue("-");
                break;
            case OptionalState.Null:
                writer.WriteNullValue();
                break;
            default:
                writer.WriteStartArray();
                value(writer, field.Value);
                writer.WriteEndArray();
                break;
        }
    }

    // Round-trip formatting: one text per double value, however it was spelled.
    private static void WriteDouble(Utf8JsonWriter writer, double value) =>
        writer.WriteStringValue(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));

    // In UTC with every fractional digit: the same instant written in another offset is the same value.
    private static void WriteInstant(Utf8JsonWriter writer, Instant value) => writer.WriteStringValue(InstantPattern.ExtendedIso.Format(value));
}
