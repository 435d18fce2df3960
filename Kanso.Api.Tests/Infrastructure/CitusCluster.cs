using Npgsql;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// A throwaway Citus cluster from the local binaries: a coordinator and workers, each a
/// <see cref="LocalPostgres"/> on a free port with <c>shared_preload_libraries=citus</c> and
/// <c>wal_level=logical</c> (the rebalancer moves shards by logical replication), the citus
/// extension in database <c>kanso</c> on every node, and the workers added to the coordinator.
/// Kanso's migrations distribute the tables when the API starts. Citus is installed first with
/// <c>scripts/install-citus.sh</c> when it is missing (a no-op when it is installed).
/// </summary>
public sealed class CitusCluster : IAsyncDisposable
{
    private const string CitusOptions =
        "-c shared_preload_libraries=citus -c wal_level=logical -c max_wal_senders=20 -c max_replication_slots=20 -c max_worker_processes=32";

    private readonly List<LocalPostgres> _workers = [];

    private CitusCluster(LocalPostgres coordinator)
    {
        Coordinator = coordinator;
    }

    public LocalPostgres Coordinator { get; }

    public IReadOnlyList<LocalPostgres> Workers => _workers;

    public string ConnectionString => Coordinator.ConnectionString;

    /// <param name="shardCount">Shards per distributed table (citus.shard_count on the coordinator); Citus's default is 32.</param>
    public static async Task<CitusCluster> StartAsync(int workers = 2, int shardCount = 32)
    {
        await EnsureInstalledAsync();
        var nodes = await Task.WhenAll(Enumerable.Range(0, workers + 1).Select(i => StartNodeAsync(i == 0 ? $"-c citus.shard_count={shardCount}" : "")));
        var cluster = new CitusCluster(nodes[0]);
        try
        {
            await cluster.ExecuteAsync($"SELECT citus_set_coordinator_host('127.0.0.1', {cluster.Coordinator.Port})");
            foreach (var worker in nodes.Skip(1))
            {
                await cluster.ExecuteAsync($"SELECT citus_add_node('127.0.0.1', {worker.Port})");
                cluster._workers.Add(worker);
            }
        }
        catch
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }

        return cluster;
    }

    /// <summary>Starts one more worker and adds it to the cluster; no shard moves until a rebalance.</summary>
    public async Task<LocalPostgres> AddWorkerAsync()
    {
        var worker = await StartNodeAsync("");
        _workers.Add(worker);
        await ExecuteAsync($"SELECT citus_add_node('127.0.0.1', {worker.Port})");
        return worker;
    }

    public async Task ExecuteAsync(string sql, int timeoutSeconds = 120)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = timeoutSeconds };
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, int timeoutSeconds = 120)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = timeoutSeconds };
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<LocalPostgres> StartNodeAsync(string options)
    {
        var node = await LocalPostgres.StartAsync($"{CitusOptions} {options}");
        await using var connection = new NpgsqlConnection(node.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS citus", connection);
        await command.ExecuteNonQueryAsync();
        return node;
    }

    /// <summary>Runs the repository's install script when no PostgreSQL on the machine has citus.so.</summary>
    private static async Task EnsureInstalledAsync()
    {
        if (Directory.Exists("/usr/lib/postgresql") && Directory.GetDirectories("/usr/lib/postgresql").Any(d => File.Exists(Path.Combine(d, "lib", "citus.so"))))
        {
            return;
        }

        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "scripts", "install-citus.sh")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException("Citus is not installed and scripts/install-citus.sh was not found above the test binaries.");
        }

        await Shell.RunAsync("bash", [Path.Combine(dir.FullName, "scripts", "install-citus.sh")], timeout: TimeSpan.FromMinutes(30));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        await Coordinator.DisposeAsync();
    }
}
