using Kanso.Api.Domain.Streaks;
using Kanso.Api.Infrastructure.Time;
using NodaTime;

namespace Kanso.Api.Tests.Domain.Streaks;

public sealed class LocalDaysTests
{
    [Fact]
    public void Dst_days_last_23_and_25_hours()
    {
        var zone = DateTimeZoneProviders.Tzdb["America/New_York"];

        var march = LocalDays.Bounds(zone, new LocalDate(2026, 3, 8), new LocalDate(2026, 3, 8));
        var november = LocalDays.Bounds(zone, new LocalDate(2026, 11, 1), new LocalDate(2026, 11, 1));

        Assert.Equal(Duration.FromHours(23), march[1] - march[0]);
        Assert.Equal(Duration.FromHours(25), november[1] - november[0]);
    }

    [Fact]
    public void Day_whose_midnight_is_skipped_starts_at_the_transition()
    {
        // Sao Paulo moved its clocks from 00:00 to 01:00 on 4 November 2018.
        var zone = DateTimeZoneProviders.Tzdb["America/Sao_Paulo"];

        var start = LocalDays.StartOf(zone, new LocalDate(2018, 11, 4));

        Assert.Equal(Instant.FromUtc(2018, 11, 4, 3, 0), start);
        Assert.Equal(new LocalDateTime(2018, 11, 4, 1, 0), start.InZone(zone).LocalDateTime);
    }

    [Fact]
    public void Date_the_zone_skips_entirely_is_an_empty_day()
    {
        // Samoa skipped 30 December 2011.
        var zone = DateTimeZoneProviders.Tzdb["Pacific/Apia"];

        var bounds = LocalDays.Bounds(zone, new LocalDate(2011, 12, 29), new LocalDate(2011, 12, 31));

        Assert.Equal(4, bounds.Length);
        Assert.Equal(bounds[1], bounds[2]);
        Assert.Equal(Duration.FromHours(24), bounds[1] - bounds[0]);
        Assert.Equal(Duration.FromHours(24), bounds[3] - bounds[2]);
    }

    [Fact]
    public void Date_of_an_instant_a_zone_already_puts_in_year_10000_is_the_last_date()
    {
        var kiritimati = DateTimeZoneProviders.Tzdb["Pacific/Kiritimati"];

        Assert.Equal(LocalDate.MaxIsoValue, LocalDays.DateOf(Instant.MaxValue, kiritimati));
        Assert.Equal(new LocalDate(9999, 12, 31), LocalDays.DateOf(Instant.FromUtc(9999, 12, 31, 9, 59), kiritimati));
        Assert.Equal(new LocalDate(9999, 12, 31), LocalDays.DateOf(Instant.MaxValue, DateTimeZone.Utc));
        Assert.Equal(new LocalDate(2026, 3, 9), LocalDays.DateOf(Instant.FromUtc(2026, 3, 8, 23, 30), DateTimeZoneProviders.Tzdb["Europe/Rome"]));
    }
}
