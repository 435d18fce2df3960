using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Kanso.Api.Domain.Records;
using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Validation;
using NodaTime;
using NodaTime.Text;

namespace Kanso.Api.Features.ImportData;

/// <summary>
/// Loop Habit Tracker's "Export as CSV" zip, read as Loop writes it (uhabits' HabitsCSVExporter):
/// <c>Habits.csv</c> (header <c>Position,Name,[Question,]Description,NumRepetitions,Interval,Color</c>,
/// one line per habit, Position as 001, 002, ...) and, per habit, a folder named by its position and
/// name (<c>001 Wake up early/</c>) whose <c>Checkmarks.csv</c> has one <c>YYYY-MM-DD,value</c> line
/// per day, newest first (2 = checked by the user, 1 = implied by the schedule, 0 = not done,
/// 3 = skipped, -1 = unknown). The root <c>Checkmarks.csv</c> and the <c>Scores.csv</c> files are not needed.
/// </summary>
internal static class ImportDataLoop
{
    private const int CheckedByUser = 2;

    /// <summary>A zip entry is read at most this far uncompressed (a zip bomb stops here).</summary>
    private const long MaxEntryBytes = 64L * 1024 * 1024;

    /// <returns>The habits and entries to import, or a message saying what is wrong with the zip.</returns>
    public static (List<ImportHabit?> Habits, List<ImportEntry?> Entries, string? Error) Read(Stream zipStream, DateTimeZone zone, Instant now)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(zipStream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException)
        {
            return ([], [], "The body is not a zip file.");
        }

        using (zip)
        {
            var habitsFile = zip.Entries.FirstOrDefault(e => e.FullName.Equals("Habits.csv", StringComparison.OrdinalIgnoreCase))
                ?? zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/Habits.csv", StringComparison.OrdinalIgnoreCase));
            if (habitsFile is null)
            {
                return ([], [], "The zip has no Habits.csv: export it from Loop with \"Export as CSV\".");
            }

            var root = habitsFile.FullName[..^"Habits.csv".Length];
            var rows = CsvReader.Parse(ReadText(habitsFile));
            if (rows.Count == 0)
            {
                return ([], [], "Habits.csv is empty.");
            }

            var header = rows[0].Select(h => h.Trim()).ToList();
            int Column(string name) => header.FindIndex(h => h.Equals(name, StringComparison.OrdinalIgnoreCase));
            var (position, name, question, description, repetitions, interval, color) =
                (Column("Position"), Column("Name"), Column("Question"), Column("Description"), Column("NumRepetitions"), Column("Interval"), Column("Color"));
            if (name < 0)
            {
                return ([], [], "Habits.csv has no Name column.");
            }

            // Each habit's folder, by the position its name starts with ("001 Wake up early/").
            var checkmarkFiles = new Dictionary<int, ZipArchiveEntry>();
            foreach (var entry in zip.Entries)
            {
                var path = entry.FullName;
                if (!path.StartsWith(root, StringComparison.Ordinal) || !path.EndsWith("/Checkmarks.csv", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var folder = path[root.Length..^"/Checkmarks.csv".Length];
                var digits = new string(folder.TakeWhile(char.IsAsciiDigit).ToArray());
                if (digits.Length > 0 && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                {
                    checkmarkFiles.TryAdd(n, entry);
                }
            }

            var habits = new List<ImportHabit?>();
            var entries = new List<ImportEntry?>();
            for (var i = 1; i < rows.Count; i++)
            {
                var row = rows[i];
                string? Cell(int column) => column >= 0 && column < row.Count && row[column].Length > 0 ? row[column] : null;
                var title = Cell(name)?.Trim();
                if (string.IsNullOrEmpty(title))
                {
                    continue;
                }

                var pos = int.TryParse(Cell(position), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : i;
                var habitId = DerivedId($"loop habit {pos} {title}");
                var days = checkmarkFiles.TryGetValue(pos, out var file) ? CheckedDays(file) : [];
                if (entries.Count + days.Count > ImportLimits.MaxEntries)
                {
                    return ([], [], $"The export has more than {ImportLimits.MaxEntries} checkmarks.");
                }

                var (frequency, every, times) = Schedule(Cell(repetitions), Cell(interval));
                var start = days.Count > 0 ? LocalDays.StartOf(zone, days.Min()) : WireFormat.TruncateToMicroseconds(now);
                var text = Cell(description) ?? Cell(question);
                habits.Add(new ImportHabit
                {
                    Id = habitId,
                    Title = Truncate(title, 100),
                    Description = text is null ? default(Optional<string>) : Truncate(text, 500),
                    Color = Cell(color) is { } c && HabitRules.IsColor(c) ? c : default(Optional<string>),
                    SortOrder = pos,
                    FrequencyType = frequency,
                    Interval = every is { } e ? e : default(Optional<int>),
                    TimesPerWeek = times is { } t ? t : default(Optional<int>),
                    StartDate = start,
                });
                foreach (var day in days)
                {
                    entries.Add(new ImportEntry
                    {
                        Id = DerivedId($"loop checkmark {habitId} {WireFormat.Format(day)}"),
                        HabitId = habitId,
                        CompletionDate = LocalDays.StartOf(zone, day) + Duration.FromHours(12),
                        Value = 1d,
                    });
                }

                if (habits.Count > ImportLimits.MaxHabits)
                {
                    return ([], [], $"The export has more than {ImportLimits.MaxHabits} habits.");
                }
            }

            return (habits, entries, null);
        }
    }

    /// <summary>Loop's "NumRepetitions times in Interval days" as a Kanso frequency.</summary>
    internal static (string Frequency, int? Interval, int? TimesPerWeek) Schedule(string? repetitions, string? interval)
    {
        var k = int.TryParse(repetitions, NumberStyles.None, CultureInfo.InvariantCulture, out var a) && a >= 1 ? a : 1;
        var n = int.TryParse(interval, NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b >= 1 ? b : 1;
        if (k >= n)
        {
            return (HabitRules.Daily, null, null);
        }

        if (k == 1 && n <= 365)
        {
            return (HabitRules.EveryInterval, n, null);
        }

        var perWeek = (int)Math.Round(7.0 * k / n, MidpointRounding.AwayFromZero);
        return perWeek >= 7 ? (HabitRules.Daily, null, null) : (HabitRules.Weekly, null, Math.Clamp(perWeek, 1, 7));
    }

    private static List<LocalDate> CheckedDays(ZipArchiveEntry file)
    {
        var days = new List<LocalDate>();
        foreach (var line in ReadText(file).Split('\n'))
        {
            var parts = line.Trim().Split(',');
            if (parts.Length >= 2
                && LocalDatePattern.Iso.Parse(parts[0].Trim()) is { Success: true } date
                && int.TryParse(parts[1].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                && value == CheckedByUser)
            {
                days.Add(date.Value);
            }
        }

        return days;
    }

    private static string ReadText(ZipArchiveEntry entry)
    {
        if (entry.Length > MaxEntryBytes)
        {
            throw new InvalidDataException($"{entry.FullName} is over {MaxEntryBytes} bytes.");
        }

        using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>A stable id from a name (SHA-256, shaped as a version 8 UUID), so the same zip imported again names the same records.</summary>
    private static Guid DerivedId(string name)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 16).ToArray();
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash, bigEndian: true);
    }

    private static string Truncate(string text, int codePoints)
    {
        if (StringRules.CodePoints(text) <= codePoints)
        {
            return text;
        }

        var builder = new StringBuilder();
        var count = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (count++ == codePoints)
            {
                break;
            }

            builder.Append(rune.ToString());
        }

        return builder.ToString();
    }
}

/// <summary>RFC 4180 rows: quoted cells may hold commas, doubled quotes and line breaks.</summary>
internal static class CsvReader
{
    public static List<List<string>> Parse(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\n')
            {
                row.Add(cell.ToString().TrimEnd('\r'));
                cell.Clear();
                rows.Add(row);
                row = [];
            }
            else
            {
                cell.Append(c);
            }
        }

        if (cell.Length > 0 || row.Count > 0)
        {
            row.Add(cell.ToString().TrimEnd('\r'));
            rows.Add(row);
        }

        return rows;
    }
}
