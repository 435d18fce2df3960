using System.Text.Json;
using FluentValidation;
using Kanso.Api.Infrastructure.Json;
using Kanso.Api.Infrastructure.Validation;
using Microsoft.Extensions.DependencyInjection;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// Base of validator unit tests: bodies are read from JSON with the app's own options (so absent,
/// null and values arrive as they do over HTTP) and field names are the wire's snake_case ones.
/// </summary>
public abstract class ValidatorTest
{
    private static readonly JsonSerializerOptions Options = CreateOptions();

    static ValidatorTest()
    {
        // Sets FluentValidation's global snake_case name resolvers, as the app does at start-up.
        new ServiceCollection().AddKansoValidation();
    }

    /// <summary>A body from JSON written with single quotes for readability.</summary>
    internal static T Body<T>(string json) => JsonSerializer.Deserialize<T>(json.Replace('\'', '"'), Options)!;

    /// <summary>The wire names of the fields that failed.</summary>
    internal static string[] Failures<T>(IValidator<T> validator, string json) =>
        validator.Validate(Body<T>(json)).Errors.Select(e => e.PropertyName).Distinct().Order().ToArray();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions();
        JsonSetup.Configure(options);
        return options;
    }
}
