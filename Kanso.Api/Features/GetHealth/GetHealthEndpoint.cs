using System.Diagnostics;
using Kanso.Api.Infrastructure.Health;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kanso.Api.Features.GetHealth;

/// <summary>
/// /health and /health/ready report the readiness checks (database and Redis) in one body: 503 when
/// the database is unreachable, so a load balancer stops sending traffic. /health/live asks no
/// dependency: it answers 200 whenever the process serves, so an orchestrator restarts an instance
/// only when the instance itself is stuck, never for a database outage.
/// </summary>
internal static class GetHealthEndpoint
{
    private static readonly DateTime ProcessStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public static IEndpointRouteBuilder MapGetHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", HandleAsync)
            .WithName("GetHealth")
            .WithSummary("Readiness and dependencies: 200 ok or degraded (Redis unreachable), 503 unavailable (database unreachable).")
            .WithTags("Operations")
            .Produces<GetHealthResponse>(StatusCodes.Status503ServiceUnavailable)
            .AllowAnonymous();
        app.MapGet("/health/ready", HandleAsync)
            .WithName("GetReadiness")
            .WithSummary("Readiness probe: the same answer as /health (503 while the database is unreachable).")
            .WithTags("Operations")
            .Produces<GetHealthResponse>(StatusCodes.Status503ServiceUnavailable)
            .AllowAnonymous();
        app.MapGet("/health/live", HandleLive)
            .WithName("GetLiveness")
            .WithSummary("Liveness probe: 200 whenever the process serves, whatever its dependencies.")
            .WithTags("Operations")
            .AllowAnonymous();
        return app;
    }

    private static async Task<Results<Ok<GetHealthResponse>, JsonHttpResult<GetHealthResponse>>> HandleAsync(HealthCheckService health, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(HealthSetup.Ready), ct);
        var database = report.Entries.TryGetValue(HealthSetup.Database, out var db) && db.Status == HealthStatus.Healthy ? "connected" : "unreachable";
        var redis = report.Entries.TryGetValue(HealthSetup.Redis, out var r) ? r.Description ?? "unreachable" : "unreachable";
        var status = report.Status switch
        {
            HealthStatus.Healthy => "ok",
            HealthStatus.Degraded => "degraded",
            _ => "unavailable",
        };
        var body = new GetHealthResponse(status, database, redis, Uptime());
        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(body);
    }

    private static Ok<GetLivenessResponse> HandleLive() => TypedResults.Ok(new GetLivenessResponse("ok", Uptime()));

    private static double Uptime() => Math.Round((DateTime.UtcNow - ProcessStart).TotalSeconds, 1);
}

/// <param name="Uptime">Seconds since the process started.</param>
internal sealed record GetHealthResponse(string Status, string Database, string Redis, double Uptime);

/// <param name="Uptime">Seconds since the process started.</param>
internal sealed record GetLivenessResponse(string Status, double Uptime);
