using Kanso.Api.Infrastructure.Json;
using NodaTime;

namespace Kanso.Api.Tests.Foundation;

public sealed class WireFormatTests
{
    [Theory]
    [InlineData("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000000Z")]
    [InlineData("0000-01-01T00:00:00-01:00", "0000-01-01T01:00:00.000000Z")]
    [InlineData("9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.999999Z")]
    [InlineData("9999-12-31T23:59:59+01:00", "9999-12-31T22:59:59.000000Z")]
    [InlineData("2026-03-08T07:59:59.123456+01:00", "2026-03-08T06:59:59.123456Z")]
    public void Parses_an_instant_whose_utc_year_has_four_digits(string text, string written)
    {
        Assert.True(WireFormat.TryParseInstant(text, out var instant));
        Assert.Equal(written, WireFormat.Format(instant));
    }

    [Theory]
    [InlineData("9999-12-31T23:59:59-01:00")]
    [InlineData("9999-12-31T23:59:59-18:00")]
    [InlineData("0000-01-01T00:00:00+00:01")]
    [InlineData("-0001-01-01T00:00:00Z")]
    [InlineData("-9998-01-01T00:00:00Z")]
    public void Refuses_an_instant_outside_the_years_rfc_3339_can_write(string text)
    {
        Assert.False(WireFormat.TryParseInstant(text, out _));
    }
}
