using System.Diagnostics;
using Dapper;
using Kanso.Api.Infrastructure.Redis;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Kanso.Api.Features.GetHealth;

internal static class GetHealthEndpoint
{
    private static readonly TimeSpan DatabaseProbeTimeout = TimeSpan.FromSeconds(2);

    private static readonly DateTime ProcessStart = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public static IEndpointRouteBuilder MapGetHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", HandleAsync)
            .WithName("GetHealth")
            .WithSummary("Liveness and dependencies: 200 ok or degraded (Redis unreachable), 503 unavailable (database unreachable).")
            .WithTags("Operations")
            .Produces<GetHealthResponse>(StatusCodes.Status503ServiceUnavailable)
            .AllowAnonymous();
        return app;
    }

    private static async Task<Results<Ok<GetHealthResponse>, JsonHttpResult<GetHealthResponse>>> HandleAsync(NpgsqlDataSource db, RedisConnection redis, CancellationToken ct)
    {
        var database = await ProbeDatabaseAsync(db, ct) ? "connected" : "unreachable";
        var redisState = await redis.GetStateAsync(TimeSpan.FromSeconds(1));
        var status = database != "connected" ? "unavailable" : redisState == "unreachable" ? "degraded" : "ok";
        var body = new GetHealthResponse(status, database, redisState, Math.Round((DateTime.UtcNow - ProcessStart).TotalSeconds, 1));
        return status == "unavailable"
            ? TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(body);
    }

    private static async Task<bool> ProbeDatabaseAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(DatabaseProbeTimeout);
        try
        {
            await using var connection = await db.OpenConnectionAsync(timeout.Token);
            return await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: timeout.Token)) == 1;
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}

/// <param name="Uptime">Seconds since the process started.</param>
internal sealed record GetHealthResponse(string Status, string Database, string Redis, double Uptime);
