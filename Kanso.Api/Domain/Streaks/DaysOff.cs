using NodaTime;

namespace Kanso.Api.Domain.Streaks;

/// <summary>Whether a habit's target is a minimum (the default) or a limit.</summary>
internal enum HabitGoal
{
    AtLeast,
    AtMost,
}

/// <summary>
/// The days of one habit that are not scheduled although its frequency falls on them: the days it
/// has a skip entry, and the days of time off that covers it (local date ranges, both ends
/// included). Such a day is neither completed nor missed.
/// </summary>
internal sealed class DaysOff
{
    public static readonly DaysOff None = new([], []);

    private readonly HashSet<LocalDate> _skipped;
    private readonly (LocalDate Start, LocalDate End)[] _ranges;

    public DaysOff(IEnumerable<LocalDate> skipped, IEnumerable<(LocalDate Start, LocalDate End)> ranges)
    {
        _skipped = [.. skipped];
        _ranges = [.. ranges.Where(r => r.End >= r.Start)];
    }

    public bool IsEmpty => _skipped.Count == 0 && _ranges.Length == 0;

    public bool Contains(LocalDate day)
    {
        if (_skipped.Contains(day))
        {
            return true;
        }

        foreach (var (start, end) in _ranges)
        {
            if (day >= start && day <= end)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How many days of [<paramref name="first"/>, <paramref name="last"/>] are off (the span is a week at most).</summary>
    public int CountIn(LocalDate first, LocalDate last)
    {
        if (IsEmpty || last < first)
        {
            return 0;
        }

        var count = 0;
        for (var day = first; ; day = day.PlusDays(1))
        {
            count += Contains(day) ? 1 : 0;
            if (day >= last)
            {
                return count;
            }
        }
    }
}
