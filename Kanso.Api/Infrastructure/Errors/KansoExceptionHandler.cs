using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Kanso.Api.Infrastructure.Errors;

/// <summary>
/// Maps the exceptions a client or an outage can cause to 4xx/503 problem details. Anything else is
/// a bare 500 that shows no internals.
/// </summary>
internal sealed class KansoExceptionHandler(IProblemDetailsService problems, ILogger<KansoExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public static int StatusFor(Exception exception) => Classify(exception).Status;

    public static bool IsClientError(Exception exception) => Classify(exception).Status is >= 400 and < 500;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true;
        }

        var (status, error, detail) = Classify(exception);
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            logger.LogWarning("Database unavailable: {Message}", exception.Message);
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (status >= 500)
        {
            logger.LogError(exception, "Unhandled exception");
        }

        httpContext.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = Title(status), Detail = detail };
        problem.Extensions["error"] = error;
        if (exception is BadHttpRequestException { InnerException: JsonException { Path: { Length: > 0 } path } })
        {
            var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [detail] };
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static (int Status, string Error, string Detail) Classify(Exception exception) => exception switch
    {
        BadHttpRequestException { StatusCode: 413 } => (413, "payload too large", $"The request body is over {ErrorSetup.MaxBodyBytes} bytes."),
        BadHttpRequestException { StatusCode: 415 } => (415, "unsupported media type", "The body must be JSON (Content-Type: application/json)."),
        BadHttpRequestException { InnerException: JsonException json } => (400, "invalid json", JsonDetail(json)),
        BadHttpRequestException bad when bad.StatusCode is >= 400 and < 500 => (bad.StatusCode, Problems.DefaultError(bad.StatusCode), ClientMessage(bad)),
        JsonException json => (400, "invalid json", JsonDetail(json)),
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } => (409, "conflict", "The record already exists."),
        PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation } => (404, "not found", "A record this one refers to does not exist."),
        PostgresException pg when pg.SqlState.StartsWith("22", StringComparison.Ordinal) || pg.SqlState == PostgresErrorCodes.CheckViolation
            => (400, "invalid value", "A value is outside what the record allows."),
        _ when IsDatabaseUnavailable(exception) => (503, "database unavailable", "The database is unreachable; retry shortly."),
        _ => (500, "internal error", "An unexpected error occurred."),
    };

    public static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg when pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal) || pg.SqlState == PostgresErrorCodes.TooManyConnections:
                case PostgresException remote when IsRemoteNodeLost(remote):
                case NpgsqlException { IsTransient: true }:
                case NpgsqlException when e.InnerException is SocketException or IOException or TimeoutException:
                case SocketException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// On Citus, a worker that goes away in the middle of a statement (stopped, crashed, network) has
    /// no error of its own to forward: the coordinator reports the lost connection as XX000 from
    /// Citus's ReportResultError ("SSL SYSCALL error: EOF detected", "server closed the connection
    /// unexpectedly"). A worker that cannot be reached at all is already 08006.
    /// </summary>
    private static bool IsRemoteNodeLost(PostgresException pg) =>
        pg.SqlState == PostgresErrorCodes.InternalError && pg.Routine is "ReportResultError" or "ReportConnectionError";

    private static string JsonDetail(JsonException json)
    {
        var where = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "the body" : $"'{json.Path[(json.Path.StartsWith("$.", StringComparison.Ordinal) ? 2 : 0)..]}'";
        var reason = json.InnerException is null && json.Message.StartsWith("Expected", StringComparison.Ordinal) || json.Message.StartsWith("A NUL", StringComparison.Ordinal)
            ? json.Message.Split(" Path:", 2)[0]
            : "malformed JSON or a value of the wrong type";
        return $"Invalid JSON at {where}: {reason}";
    }

    // The framework's binding messages speak of C# parameters and services; say what the client can fix.
    private static string ClientMessage(BadHttpRequestException bad) => bad.Message switch
    {
        var m when m.Contains("body", StringComparison.OrdinalIgnoreCase) => "A JSON body is required.",
        var m when m.Contains("query string", StringComparison.OrdinalIgnoreCase) || m.Contains("route", StringComparison.OrdinalIgnoreCase)
            => "A query or route parameter is missing or has the wrong format.",
        var m when m.Contains("header", StringComparison.OrdinalIgnoreCase) => "A request header has the wrong format.",
        _ => "The request is malformed.",
    };

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        404 => "Not found",
        409 => "Conflict",
        413 => "Payload too large",
        415 => "Unsupported media type",
        503 => "Service unavailable",
        _ => "An error occurred",
    };
}
