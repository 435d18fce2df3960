using System.Text.Json;
using System.Text.Json.Serialization;
using NodaTime;
using NodaTime.Text;

namespace Kanso.Api.Infrastructure.Json;

/// <summary>The contract's (docs/API.md) text formats for instants and local dates, used by JSON and by query strings.</summary>
internal static class WireFormat
{
    // Output: always UTC, 'Z', microseconds (PostgreSQL's precision).
    private static readonly InstantPattern OutputInstant = InstantPattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'");

    // Input: RFC 3339, any offset, optional fraction; an offset is required.
    private static readonly OffsetDateTimePattern InputInstant = OffsetDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss;FFFFFFFFFo<Z+HH:mm>");

    private static readonly LocalDatePattern Date = LocalDatePattern.Iso;

    // The first instant of year 0000 (Instant.MaxValue is the last of year 9999).
    private static readonly Instant MinInstant = Instant.FromUtc(0, 1, 1, 0, 0);

    public static string Format(Instant instant) => OutputInstant.Format(TruncateToMicroseconds(instant));

    public static string Format(LocalDate date) => Date.Format(date);

    public static bool TryParseInstant(string? text, out Instant instant)
    {
        instant = default;
        if (string.IsNullOrEmpty(text) || text.Length > 40)
        {
            return false;
        }

        var result = InputInstant.Parse(text);
        if (!result.Success || result.Value.Year is < 0 or > 9999)
        {
            return false;
        }

        // The instant must have a four-digit year in UTC too, as it is written back; an offset can
        // carry year 9999 past that (and past NodaTime's range: ToInstant would throw) or year 0 below it.
        var offset = Duration.FromSeconds(result.Value.Offset.Seconds);
        var wallClock = result.Value.LocalDateTime.InUtc().ToInstant();
        if ((offset < Duration.Zero && wallClock > Instant.MaxValue + offset) || (offset > Duration.Zero && wallClock < MinInstant + offset))
        {
            return false;
        }

        instant = TruncateToMicroseconds(wallClock - offset);
        return true;
    }

    public static bool TryParseDate(string? text, out LocalDate date)
    {
        date = default;
        if (string.IsNullOrEmpty(text) || text.Length != 10)
        {
            return false;
        }

        var result = Date.Parse(text);
        date = result.Success ? result.Value : default;
        return result.Success;
    }

    public static Instant TruncateToMicroseconds(Instant instant)
    {
        var ticks = instant.ToUnixTimeTicks();
        return Instant.FromUnixTimeTicks(ticks - (((ticks % 10) + 10) % 10));
    }
}

internal sealed class InstantJsonConverter : JsonConverter<Instant>
{
    public override Instant Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || !WireFormat.TryParseInstant(reader.GetString(), out var instant))
        {
            throw new JsonException("Expected an RFC 3339 instant with an offset, e.g. 2026-03-08T06:59:59.123456Z.");
        }

        return instant;
    }

    public override void Write(Utf8JsonWriter writer, Instant value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WireFormat.Format(value));
}

internal sealed class LocalDateJsonConverter : JsonConverter<LocalDate>
{
    public override LocalDate Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || !WireFormat.TryParseDate(reader.GetString(), out var date))
        {
            throw new JsonException("Expected a local date, YYYY-MM-DD.");
        }

        return date;
    }

    public override void Write(Utf8JsonWriter writer, LocalDate value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WireFormat.Format(value));
}

/// <summary>PostgreSQL text cannot hold U+0000: every string in every body is refused at the door.</summary>
internal sealed class NoNulStringConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("Expected a string.");
        }

        var value = reader.GetString()!;
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new JsonException("A NUL character (U+0000) is not allowed in a string.");
        }

        return value;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

internal static class JsonSetup
{
    public const int MaxDepth = 32;

    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.MaxDepth = MaxDepth;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new InstantJsonConverter());
        options.Converters.Add(new LocalDateJsonConverter());
        options.Converters.Add(new NoNulStringConverter());
    }
}
