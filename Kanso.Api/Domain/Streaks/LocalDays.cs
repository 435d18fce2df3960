using NodaTime;

namespace Kanso.Api.Domain.Streaks;

/// <summary>Local calendar days of a zone as instants, from NodaTime's TZDB.</summary>
internal static class LocalDays
{
    /// <summary>
    /// The first instant of <paramref name="date"/> in <paramref name="zone"/>. Like
    /// <see cref="DateTimeZone.AtStartOfDay"/> (the earlier midnight when it repeats, the transition
    /// when midnight is skipped), but a date the zone skips entirely starts where the next date
    /// starts, so it becomes an empty day instead of an exception.
    /// </summary>
    public static Instant StartOf(DateTimeZone zone, LocalDate date)
    {
        var mapping = zone.MapLocal(date.AtMidnight());
        return mapping.Count == 0 ? mapping.LateInterval.Start : mapping.First().ToInstant();
    }

    /// <summary>
    /// The start of each day from <paramref name="first"/> to <paramref name="last"/> followed by the
    /// start of the day after: day i is [bounds[i], bounds[i + 1]). A DST day lasts 23 or 25 hours.
    /// </summary>
    public static Instant[] Bounds(DateTimeZone zone, LocalDate first, LocalDate last)
    {
        var days = Period.DaysBetween(first, last) + 1;
        var bounds = new Instant[days + 1];
        for (var i = 0; i <= days; i++)
        {
            bounds[i] = StartOf(zone, first.PlusDays(i));
        }

        return bounds;
    }

    public static LocalDate Today(IClock clock, DateTimeZone zone) => clock.GetCurrentInstant().InZone(zone).Date;

    /// <summary>Today for a user whose day begins <paramref name="dayStartMinutes"/> after local midnight.</summary>
    public static LocalDate Today(IClock clock, DateTimeZone zone, int dayStartMinutes) => DateOf(clock.GetCurrentInstant(), zone, dayStartMinutes);

    /// <summary>
    /// The day <paramref name="instant"/> belongs to when the day begins <paramref name="dayStartMinutes"/>
    /// after local midnight: the local date of the local time minus the day start (with 03:00, 01:30
    /// belongs to the day before).
    /// </summary>
    public static LocalDate DateOf(Instant instant, DateTimeZone zone, int dayStartMinutes)
    {
        var date = DateOf(instant, zone);
        if (dayStartMinutes <= 0 || date == LocalDate.MaxIsoValue)
        {
            return date;
        }

        return instant.InZone(zone).LocalDateTime.PlusMinutes(-dayStartMinutes).Date;
    }

    /// <summary>The first instant of <paramref name="date"/> for a day that begins <paramref name="dayStartMinutes"/> after local midnight.</summary>
    public static Instant StartOf(DateTimeZone zone, LocalDate date, int dayStartMinutes) =>
        dayStartMinutes <= 0 ? StartOf(zone, date) : zone.AtLeniently(date.AtMidnight().PlusMinutes(dayStartMinutes)).ToInstant();

    /// <summary>
    /// The local date of <paramref name="instant"/> in <paramref name="zone"/>. In the last hours of
    /// year 9999 (UTC) a zone ahead of UTC is already in year 10000, past the last date NodaTime holds
    /// (InZone would throw): such an instant counts on that last date.
    /// </summary>
    public static LocalDate DateOf(Instant instant, DateTimeZone zone)
    {
        var offset = zone.GetUtcOffset(instant);
        return offset > Offset.Zero && Instant.MaxValue - instant < Duration.FromSeconds(offset.Seconds)
            ? LocalDate.MaxIsoValue
            : instant.InZone(zone).Date;
    }
}
