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
        IsOptional(info.Type) || IsTextValue(Nullable.GetUnderlyingType(info.Type) ?? info.Type)
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
        var nullable = underlying is not null || (optional
            ? context.JsonPropertyInfo?.AttributeProvider?.IsDefined(typeof(ClearableAttribute), inherit: true) == true
            : context.JsonPropertyInfo is { IsGetNullable: true });
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

    /// <summary>
    /// Problem details as every non-2xx answer carries them: the RFC 9457 members, always present, plus
    /// <c>error</c> and <c>trace_id</c> (added by CustomizeProblemDetails, which the generator cannot see).
    /// </summary>
    public static Task TransformProblemAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (!typeof(Microsoft.AspNetCore.Mvc.ProblemDetails).IsAssignableFrom(context.JsonTypeInfo.Type))
        {
            return Task.CompletedTask;
        }

        schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
        schema.Properties["error"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "A short lowercase reason kept for earlier clients, e.g. \"version conflict\", \"habit not found\", \"invalid credentials\".",
        };
        schema.Properties["trace_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's trace id, for support." };
        if (schema.Properties.TryGetValue("errors", out var errors) && errors is OpenApiSchema { AdditionalProperties: OpenApiSchema messages })
        {
            messages.Items = new OpenApiSchema { Type = JsonSchemaType.String };
        }

        foreach (var member in new[] { "type", "title", "status", "detail" })
        {
            if (schema.Properties.TryGetValue(member, out var property) && property is OpenApiSchema { Type: { } type } concrete)
            {
                concrete.Type = type & ~JsonSchemaType.Null;
            }
        }

        schema.Required = new HashSet<string> { "type", "title", "status", "detail", "error", "trace_id" };
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

    /// <summary>Instants and dates, also when nullable (a component of their own would wrap every nullable one in a oneOf).</summary>
    private static bool IsTextValue(Type type) => type == typeof(Instant) || type == typeof(LocalDate);

    private static bool IsOptional(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Optional<>);
}
