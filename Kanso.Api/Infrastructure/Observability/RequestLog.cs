using System.Diagnostics;

namespace Kanso.Api.Infrastructure.Observability;

/// <summary>
/// First in the pipeline: every log line written while a request runs carries its route template
/// (in a scope, next to the TraceId and SpanId scope the host adds), and when the request ends one
/// line says method, route template, status and duration. The line is category
/// <see cref="Category"/> at Information: <c>Logging__LogLevel__Kanso.Requests=None</c> turns it off.
/// It never logs a path's values, a query string, a header or a body.
/// </summary>
internal static partial class RequestLog
{
    public const string Category = "Kanso.Requests";

    public static WebApplication UseKansoRequestLog(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
        app.Use((context, next) => LogAsync(context, next, logger));
        return app;
    }

    private static async Task LogAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        // Routing has already run (WebApplication puts it first), so the endpoint is known here.
        var route = RouteOf(context);
        using var scope = logger.BeginScope(new RouteScope(route));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            if (logger.IsEnabled(LogLevel.Information))
            {
                var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode;
                Finished(logger, context.Request.Method, route, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    private static string RouteOf(HttpContext context) =>
        context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } template } ? template : "unmatched";

    [LoggerMessage(EventId = 1, EventName = "RequestFinished", Level = LogLevel.Information, Message = "{Method} {Route} answered {StatusCode} in {DurationMs:0.0} ms")]
    private static partial void Finished(ILogger logger, string method, string route, int statusCode, double durationMs);

    /// <summary>A scope of one key, <c>Route</c>, printed as "Route:/api/v1/habits/{id}" by text formatters.</summary>
    private sealed class RouteScope(string route) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 1;

        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new("Route", route) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"Route:{route}";
    }
}
