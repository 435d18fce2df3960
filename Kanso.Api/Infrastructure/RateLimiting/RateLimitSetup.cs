using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Kanso.Api.Infrastructure.RateLimiting;

internal static class RateLimitSetup
{
    public static IServiceCollection AddKansoRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().Configure<IConfiguration>((o, configuration) => o.ReadFrom(configuration)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddSingleton<LocalTokenBuckets>();
        services.AddSingleton<RedisTokenBuckets>();
        services.AddSingleton<TokenBuckets>();
        services.AddSingleton<KansoRateLimiter>();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = WriteRejectionAsync;
        });
        services.AddOptions<RateLimiterOptions>().Configure<KansoRateLimiter>((o, limiter) => o.GlobalLimiter = limiter);

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<RateLimitOptions>>((forwarded, rateLimit) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();

            // Hops are unwound right to left only while they come from a trusted proxy, so a chain of
            // trusted proxies works and the first untrusted address is the client.
            forwarded.ForwardLimit = null;
            foreach (var proxy in rateLimit.Value.TrustedProxies)
            {
                TrustedProxy.TryParse(proxy, out var address, out var network);
                if (address is not null)
                {
                    forwarded.KnownProxies.Add(address);
                }
                else if (network is { } n)
                {
                    forwarded.KnownIPNetworks.Add(n);
                }
            }
        });
        services.Configure<OpenApiOptions>("v1", o => o.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<PerUserRateLimit>().Any())
            {
                DocumentHeaders(operation);
            }

            return Task.CompletedTask;
        }));
        return services;
    }

    /// <summary>
    /// First in the pipeline, so everything after it sees the client's address. Left out when no proxy
    /// is trusted: with empty lists the middleware would believe X-Forwarded-For from anyone.
    /// </summary>
    public static WebApplication UseKansoForwardedHeaders(this WebApplication app)
    {
        if (RateLimitOptions.ReadTrustedProxies(app.Configuration).Count > 0)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }

    /// <summary>
    /// After authentication, so the user id is known; before authorization, so calls without a valid
    /// token to protected routes are limited by IP before they are answered 401.
    /// </summary>
    public static WebApplication UseKansoRateLimiting(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    /// <summary>A token bucket per user (per client IP when anonymous), shared by all instances through Redis.</summary>
    public static TBuilder RequirePerUserRateLimit<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(PerUserRateLimit.Instance);

    /// <summary>Also a token bucket per email in the JSON body (login, against password guessing).</summary>
    public static RouteHandlerBuilder RequirePerEmailRateLimit(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(PerEmailRateLimit.Instance);

    /// <summary>Also a token bucket per session named by the refresh token in the JSON body (refresh).</summary>
    public static RouteHandlerBuilder RequirePerRefreshSessionRateLimit(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(PerRefreshSessionRateLimit.Instance);

    private static void DocumentHeaders(OpenApiOperation operation)
    {
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is not OpenApiResponse concrete)
            {
                continue;
            }

            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            concrete.Headers["RateLimit-Policy"] = Header(JsonSchemaType.String, "Buckets this request drew from (IETF draft), e.g. \"user\";q=120;w=60: capacity q, seconds w to refill from empty.");
            concrete.Headers["RateLimit"] = Header(JsonSchemaType.String, "Their state (IETF draft), e.g. \"user\";r=119;t=1: r tokens left, t seconds until full.");
            concrete.Headers["X-RateLimit-Limit"] = Header(JsonSchemaType.Integer, "Capacity of the binding bucket.");
            concrete.Headers["X-RateLimit-Remaining"] = Header(JsonSchemaType.Integer, "Tokens left in the binding bucket.");
            concrete.Headers["X-RateLimit-Reset"] = Header(JsonSchemaType.Integer, "Seconds until the binding bucket is full.");
            if (status == "429")
            {
                concrete.Headers["Retry-After"] = Header(JsonSchemaType.Integer, "Seconds until a request can succeed.");
            }
        }
    }

    private static OpenApiHeader Header(JsonSchemaType type, string description) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = type } };

    private static ValueTask WriteRejectionAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Too many requests",
            Detail = string.Create(CultureInfo.InvariantCulture, $"Rate limit exceeded; retry in {seconds} s."),
        };
        problem.Extensions["error"] = "rate limited";
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
    }
}
