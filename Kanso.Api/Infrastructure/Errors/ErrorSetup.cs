using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;

namespace Kanso.Api.Infrastructure.Errors;

internal static class ErrorSetup
{
    public const int MaxBodyBytes = 1024 * 1024;

    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static IServiceCollection AddKansoErrors(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var http = context.HttpContext;
            problem.Extensions.Remove("traceId");
            problem.Extensions["trace_id"] = Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier;
            if (!problem.Extensions.TryGetValue("error", out var error) || error is null)
            {
                problem.Extensions["error"] = problem.Status == 400 && problem is HttpValidationProblemDetails
                    ? "validation failed"
                    : Problems.DefaultError(problem.Status);
            }

            problem.Detail ??= problem.Title;

            // Every 503 says when to retry, also the request timeout's (written by the status-code pages).
            if (problem.Status == StatusCodes.Status503ServiceUnavailable && !http.Response.Headers.ContainsKey("Retry-After"))
            {
                http.Response.Headers.RetryAfter = KansoExceptionHandler.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            // The framework's defaults give a type for the common statuses only (not 410, 413, 429).
            problem.Type ??= problem.Status switch
            {
                410 => "https://tools.ietf.org/html/rfc9110#section-15.5.11",
                413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
                429 => "https://tools.ietf.org/html/rfc6585#section-4",
                _ => "about:blank",
            };
            problem.Instance ??= http.Request.Path;
        });
        services.AddExceptionHandler<KansoExceptionHandler>();

        // No request hangs: past this the request is cancelled and answered 503 (problem details,
        // written by the status-code pages), whatever it was waiting for.
        services.AddRequestTimeouts(o => o.DefaultPolicy = new Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutPolicy
        {
            Timeout = RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
        });

        // Binding failures (malformed JSON, wrong types, wrong content type) are thrown, so the
        // exception handler can say what was wrong instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    public static WebApplication UseKansoErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = KansoExceptionHandler.StatusFor,
            SuppressDiagnosticsCallback = context => KansoExceptionHandler.IsClientError(context.Exception),
        });
        app.UseStatusCodePages();
        app.Use(RejectLargeBodies);
        app.UseRequestTimeouts();
        return app;
    }

    /// <summary>
    /// A declared length over the limit is refused before anything is read. Kestrel's own limit
    /// (set to the same size) catches chunked bodies while they are read.
    /// </summary>
    private static Task RejectLargeBodies(HttpContext context, RequestDelegate next)
    {
        // An endpoint may allow more (POST /import), through [RequestSizeLimit] metadata.
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? MaxBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "Payload too large",
                    Detail = $"The request body is over {limit} bytes.",
                },
            }).AsTask();
        }

        return next(context);
    }
}
