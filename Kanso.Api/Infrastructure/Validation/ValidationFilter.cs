using FluentValidation;
using Kanso.Api.Infrastructure.Errors;

namespace Kanso.Api.Infrastructure.Validation;

/// <summary>Runs the FluentValidation validator of the endpoint's <typeparamref name="T"/> argument before the handler.</summary>
internal sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var argument = context.Arguments.OfType<T>().FirstOrDefault();
        if (argument is null)
        {
            return Problems.BadRequest("invalid json", "A JSON body is required.");
        }

        var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted);
        if (!result.IsValid)
        {
            return TypedResults.ValidationProblem(
                result.ToDictionary(),
                detail: string.Join(" ", result.Errors.Select(e => e.ErrorMessage).Distinct().Take(5)),
                title: "Validation failed",
                extensions: new Dictionary<string, object?> { ["error"] = "validation failed" });
        }

        return await next(context);
    }
}

internal static class ValidationExtensions
{
    public static RouteHandlerBuilder Validate<T>(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<ValidationFilter<T>>().ProducesValidationProblem();

    public static IServiceCollection AddKansoValidation(this IServiceCollection services)
    {
        // Field names in `errors` match the wire (snake_case), e.g. "times_per_week".
        ValidatorOptions.Global.PropertyNameResolver = (_, member, expression) =>
            member is null ? null : System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(member.Name);
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) =>
            member is null ? null : System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(member.Name);
        services.AddValidatorsFromAssemblyContaining<Program>(includeInternalTypes: true);
        services.AddScoped(typeof(ValidationFilter<>));
        return services;
    }
}

/// <summary>Rules the contract applies to every string.</summary>
internal static class StringRules
{
    /// <summary>Length in Unicode code points, as the contract counts it.</summary>
    public static int CodePoints(string value)
    {
        var count = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (!char.IsHighSurrogate(value[i]) || i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]))
            {
                count++;
                continue;
            }

            count++;
            i++;
        }

        return count;
    }

}
