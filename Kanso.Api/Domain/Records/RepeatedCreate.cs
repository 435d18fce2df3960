using Kanso.Api.Infrastructure.Json;

namespace Kanso.Api.Domain.Records;

/// <summary>
/// A create for an id the user already has: a harmless repeat when every field it sends equals the
/// stored value (after the same trimming and normalising a write applies), otherwise an edit the
/// client thinks is new, which the sync push answers as a conflict so that it is never silently dropped.
/// </summary>
internal static class RepeatedCreate
{
    public static bool Matches(HabitRecord stored, HabitFields sent)
    {
        var current = HabitValues.From(stored).Normalize();
        var merged = current.Apply(sent).Normalize();
        return current with { Weekdays = null } == merged with { Weekdays = null }
            && (current.Weekdays ?? []).SequenceEqual(merged.Weekdays ?? []);
    }

    public static bool Matches(EntryRecord stored, Guid habitId, EntryFields sent) =>
        stored.HabitId == habitId
        && (!sent.CompletionDate.HasValue || WireFormat.TruncateToMicroseconds(sent.CompletionDate.Value) == stored.CompletionDate)
        && (!sent.Value.HasValue || EntryRules.Stored(sent.Value.Value).Equals(stored.Value))
        && (!sent.Notes.IsSent || string.Equals(sent.Notes.Patch(null), stored.Notes, StringComparison.Ordinal))
        && (!sent.LocalDate.HasValue || sent.LocalDate.Value == stored.LocalDate)
        && (!sent.Kind.HasValue || string.Equals(sent.Kind.Value, stored.Kind, StringComparison.Ordinal));

    public static bool Matches(TimeOffRecord stored, TimeOffFields sent)
    {
        var current = TimeOffValues.From(stored);
        var merged = current.Apply(sent);
        return current.StartDate == merged.StartDate
            && current.EndDate == merged.EndDate
            && string.Equals(current.Note, merged.Note, StringComparison.Ordinal)
            && (current.HabitIds ?? []).Order().SequenceEqual((merged.HabitIds ?? []).Order())
            && (current.HabitIds is null) == (merged.HabitIds is null);
    }
}
