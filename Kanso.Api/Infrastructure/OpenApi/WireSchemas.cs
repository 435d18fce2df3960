using System.Text.Json.Serialization.Metadata;
using Kanso.Api.Infrastructure.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using NodaTime;

namespace Kanso.Api.Infrastructure.OpenApi;

/// <summary>
/// Schemas for the types the wire writes through custom converters, which the generator cannot
/// see into (it would show them as "any"): strings, instants, local dates, and
/// <see cref="Optional{T}"/> body properties, which appear as their value type.
/// </summary>
internal static class WireSchemas
{
    /// <summary>These types are inlined where used rather than made components of their own.</summary>
    public static string? ReferenceId(JsonTypeInfo info) =>
        IsOptional(info.Type) || info.Type == typeof(Instant) || info.Type == typeof(LocalDate)
            ? null
            : OpenApiOptions.CreateDefaultSchemaReferenceId(info);

    public static Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        var type = context.JsonTypeInfo.Type;
        var optional = IsOptional(type);
        if (optional)
        {
            type = type.GetGenericArguments()[0];
        }

        var underlying = Nullable.GetUnderlyingType(type);
        var nullable = underlying is not null || (!optional && context.JsonPropertyInfo is { IsGetNullable: true });
        type = underlying ?? type;

        var (kind, format) = Describe(type);
        if (kind is null)
        {
            return Task.CompletedTask;
        }

        schema.Type = nullable ? kind | JsonSchemaType.Null : kind;
        schema.Format = format;
        schema.OneOf = null;
        if (type.IsArray && type.GetElementType() is { } element && Describe(element) is ({ } itemKind, var itemFormat))
        {
            schema.Items = new OpenApiSchema { Type = itemKind, Format = itemFormat };
        }

        return Task.CompletedTask;
    }

    private static (JsonSchemaType? Kind, string? Format) Describe(Type type) => type switch
    {
        _ when type == typeof(string) => (JsonSchemaType.String, null),
        _ when type == typeof(Instant) => (JsonSchemaType.String, "date-time"),
        _ when type == typeof(LocalDate) => (JsonSchemaType.String, "date"),
        _ when type == typeof(int) => (JsonSchemaType.Integer, "int32"),
        _ when type == typeof(double) => (JsonSchemaType.Number, "double"),
        _ when type == typeof(int[]) => (JsonSchemaType.Array, null),
        _ => (null, null),
    };

    private static bool IsOptional(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Optional<>);
}
