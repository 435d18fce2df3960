using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kanso.Api.Infrastructure.Json;

/// <summary>Whether a JSON property was left out, sent as <c>null</c>, or sent with a value.</summary>
internal enum OptionalState
{
    Absent,
    Null,
    Present,
}

/// <summary>
/// A body property that remembers whether it was sent, so a partial update can tell "left out"
/// (unchanged) from <c>null</c> (clear) from a value. The default is <see cref="OptionalState.Absent"/>, which is
/// what System.Text.Json leaves when the property is missing from the body.
/// </summary>
[JsonConverter(typeof(OptionalJsonConverterFactory))]
internal readonly struct Optional<T> : IEquatable<Optional<T>>
{
    private readonly T? _value;

    private Optional(OptionalState state, T? value)
    {
        State = state;
        _value = value;
    }

    public static Optional<T> Null => new(OptionalState.Null, default);

    public OptionalState State { get; }

    public bool IsNull => State == OptionalState.Null;

    /// <summary>Sent with a non-null value.</summary>
    public bool HasValue => State == OptionalState.Present;

    /// <summary>Sent at all, as a value or as <c>null</c>.</summary>
    public bool IsSent => State != OptionalState.Absent;

    public T Value => HasValue ? _value! : throw new InvalidOperationException($"The optional is {State}, not a value.");

    public static Optional<T> Of(T? value) => value is null ? Null : new(OptionalState.Present, value);

    public static implicit operator Optional<T>(T? value) => Of(value);

    public bool Equals(Optional<T> other) => State == other.State && EqualityComparer<T?>.Default.Equals(_value, other._value);

    public override bool Equals(object? obj) => obj is Optional<T> other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(State, _value);

    public override string ToString() => State == OptionalState.Present ? $"{_value}" : State.ToString();

    public static bool operator ==(Optional<T> left, Optional<T> right) => left.Equals(right);

    public static bool operator !=(Optional<T> left, Optional<T> right) => !left.Equals(right);
}

/// <summary>
/// Marks an <see cref="Optional{T}"/> body property that <c>null</c> clears, so the OpenAPI document
/// shows it nullable (the validators refuse a null everywhere else).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class ClearableAttribute : Attribute;

/// <summary>Applying a sent property to a stored value (the merge of a partial update).</summary>
internal static class OptionalPatch
{
    /// <summary>A nullable reference field: the sent value, null when sent as null, else <paramref name="current"/>.</summary>
    public static T? Patch<T>(this Optional<T> sent, T? current)
        where T : class => sent.State switch
        {
            OptionalState.Present => sent.Value,
            OptionalState.Null => null,
            _ => current,
        };

    /// <summary>A nullable value field: the sent value, null when sent as null, else <paramref name="current"/>.</summary>
    public static T? PatchValue<T>(this Optional<T> sent, T? current)
        where T : struct => sent.State switch
        {
            OptionalState.Present => sent.Value,
            OptionalState.Null => null,
            _ => current,
        };

    /// <summary>A field that cannot be null (validation refuses a sent null first): the sent value, else <paramref name="current"/>.</summary>
    public static T PatchRequired<T>(this Optional<T> sent, T current) => sent.HasValue ? sent.Value : current;
}

internal sealed class OptionalJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Optional<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(OptionalJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;
}

internal sealed class OptionalJsonConverter<T> : JsonConverter<Optional<T>>
{
    // The converter is only called for properties that are present; null must reach it too.
    public override bool HandleNull => true;

    public override Optional<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return Optional<T>.Null;
        }

        // The inner converter reads in the same state, so an error names this property's path.
        var inner = (JsonConverter<T>)options.GetConverter(typeof(T));
        return Optional<T>.Of(inner.Read(ref reader, typeof(T), options));
    }

    public override void Write(Utf8JsonWriter writer, Optional<T> value, JsonSerializerOptions options)
    {
        if (value.HasValue)
        {
            JsonSerializer.Serialize(writer, value.Value, options);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
