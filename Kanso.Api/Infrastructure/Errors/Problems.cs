using Microsoft.AspNetCore.Http.HttpResults;

namespace Kanso.Api.Infrastructure.Errors;

/// <summary>Typed problem results for the outcomes slices return (never thrown).</summary>
internal static class Problems
{
    public static ProblemHttpResult Create(int status, string error, string? detail = null, IDictionary<string, object?>? extensions = null)
    {
        var ext = extensions is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(extensions);
        ext["error"] = error;
        return TypedResults.Problem(detail: detail ?? error, statusCode: status, extensions: ext);
    }

    public static ProblemHttpResult BadRequest(string error, string? detail = null) => Create(StatusCodes.Status400BadRequest, error, detail);

    public static ProblemHttpResult NotFound(string error) => Create(StatusCodes.Status404NotFound, error);

    /// <summary>409 carrying <c>current</c>, the server's copy (a tombstone when deleted), so the client can rebase.</summary>
    public static ProblemHttpResult Conflict(object current, string error = "version conflict") =>
        Create(StatusCodes.Status409Conflict, error, "The record changed since the version you sent; 'current' holds the server's copy.", new Dictionary<string, object?> { ["current"] = current });

    /// <summary>400 with field-level messages in <c>errors</c>, like a failed validator.</summary>
    public static ProblemHttpResult Invalid(string field, string message) =>
        Create(StatusCodes.Status400BadRequest, "validation failed", message, new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });

    /// <summary>400 with several field-level messages in <c>errors</c>: the same answer as the validation filter.</summary>
    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(
            errors,
            detail: string.Join(" ", errors.Values.SelectMany(m => m).Distinct().Take(5)),
            title: "Validation failed",
            extensions: new Dictionary<string, object?> { ["error"] = "validation failed" });

    /// <summary>The short lowercase reason earlier clients read from <c>error</c>, by status.</summary>
    public static string DefaultError(int? status) => status switch
    {
        400 => "bad request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        405 => "method not allowed",
        406 => "not acceptable",
        409 => "conflict",
        410 => "gone",
        413 => "payload too large",
        415 => "unsupported media type",
        429 => "rate limited",
        503 => "service unavailable",
        >= 500 => "internal error",
        _ => "error",
    };
}
