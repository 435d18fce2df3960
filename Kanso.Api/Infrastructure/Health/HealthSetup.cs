using Kanso.Api.Infrastructure.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Kanso.Api.Infrastructure.Health;

/// <summary>
/// The dependencies readiness depends on, as ASP.NET Core health checks: the database (Xabaril's
/// Npgsql check over the app's own data source; unreachable = unhealthy) and Redis (unreachable =
/// degraded, because rate limiting falls back to in-process buckets). Liveness runs no check.
/// </summary>
internal static class HealthSetup
{
    public const string Ready = "ready";
    public const string Database = "database";
    public const string Redis = "redis";

    public static readonly TimeSpan DatabaseTimeout = TimeSpan.FromSeconds(2);

    public static IServiceCollection AddKansoHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddNpgSql(sp => sp.GetRequiredService<NpgsqlDataSource>(), name: Database, tags: [Ready], timeout: DatabaseTimeout)
            .AddCheck<RedisHealthCheck>(Redis, tags: [Ready]);
        return services;
    }
}

/// <summary>Healthy when connected or not configured, degraded when unreachable; the state is the description.</summary>
internal sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = await redis.GetStateAsync(TimeSpan.FromSeconds(1));
        return state == "unreachable" ? HealthCheckResult.Degraded(state) : HealthCheckResult.Healthy(state);
    }
}
