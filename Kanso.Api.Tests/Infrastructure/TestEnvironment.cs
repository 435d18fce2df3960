using Testcontainers.PostgreSql;
using Testcontainers.Redis;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// Where the tests find PostgreSQL and Redis, in this order: a connection string from the
/// environment (KANSO_TEST_POSTGRES / KANSO_TEST_REDIS); with KANSO_TEST_CITUS=1, a throwaway Citus
/// cluster from the local binaries (<see cref="CitusCluster"/>); Testcontainers when a Docker engine
/// answers; otherwise throwaway servers started from the local binaries.
/// </summary>
public sealed class TestEnvironment : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    public string PostgresConnectionString { get; private set; } = "";

    public string RedisConfiguration { get; private set; } = "";

    /// <summary>KANSO_TEST_CITUS=1: the database is a throwaway Citus cluster (a coordinator and two workers).</summary>
    public static bool UseCitus => Environment.GetEnvironmentVariable("KANSO_TEST_CITUS") == "1";

    public static async Task<TestEnvironment> StartAsync()
    {
        var env = new TestEnvironment();
        var docker = new Lazy<Task<bool>>(DockerProbe.EngineAnswersAsync);

        var postgres = Environment.GetEnvironmentVariable("KANSO_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            env.PostgresConnectionString = postgres;
        }
        else if (UseCitus)
        {
            // 8 shards per table, not 32: every test empties the tables first, and that costs per
            // shard. The plans (one shard per request, or all of them) are the same; the cluster
            // tests in Citus/ run with the default 32.
            var cluster = await CitusCluster.StartAsync(workers: 2, shardCount: 8);
            env._owned.Add(cluster);
            env.PostgresConnectionString = cluster.ConnectionString;
        }
        else if (await docker.Value)
        {
            var container = new PostgreSqlBuilder("postgres:16").Build();
            await container.StartAsync();
            env._owned.Add(container);
            env.PostgresConnectionString = container.GetConnectionString();
        }
        else
        {
            var local = await LocalPostgres.StartAsync();
            env._owned.Add(local);
            env.PostgresConnectionString = local.ConnectionString;
        }

        var redis = Environment.GetEnvironmentVariable("KANSO_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(redis))
        {
            env.RedisConfiguration = redis;
        }
        else if (await docker.Value)
        {
            var container = new RedisBuilder("redis:7").Build();
            await container.StartAsync();
            env._owned.Add(container);
            env.RedisConfiguration = container.GetConnectionString();
        }
        else
        {
            var local = await LocalRedis.StartAsync();
            env._owned.Add(local);
            env.RedisConfiguration = local.Configuration;
        }

        return env;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }
}
