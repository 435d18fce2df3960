using System.Text;
using Dapper;
using Kanso.Api.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Kanso.Api.Tests.Citus;

/// <summary>
/// A Citus cluster of its own (coordinator + 2 workers, 32 shards per table) and an API over it,
/// for the tests that change the cluster under load. These tests never use the suite's database,
/// whichever it is, so CI runs them once, after the plain and the Citus passes (Category=Cluster).
/// </summary>
public sealed class ScaleOutFixture : IAsyncLifetime
{
    public CitusCluster Cluster { get; private set; } = null!;

    public KansoApiFactory Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await CitusCluster.StartAsync(workers: 2);
        Factory = new KansoApiFactory(Cluster.ConnectionString, redis: null);
        _ = Factory.Server; // migrates, which distributes the tables
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>
/// Scale-out proven, not promised: a worker added and the shards rebalanced onto it while a mixed
/// load runs, and a worker stopped for 10 s under load. Each run checks that every acknowledged
/// write is stored exactly once, that every client's cursor still pulls all of it (no 410), and
/// that the only non-2xx answers were 503 with Retry-After. The figures go to the test output and
/// to $KANSO_SCALEOUT_REPORT when set (CI prints them).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ScaleOutTests(ScaleOutFixture fixture, ITestOutputHelper output) : IClassFixture<ScaleOutFixture>
{
    private const int Users = 24;

    [Fact]
    public async Task A_worker_added_and_the_shards_rebalanced_under_load_loses_nothing_and_answers_only_2xx_or_503()
    {
        var clients = await CreateClientsAsync();
        var load = new CitusLoad();
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(clients, stop.Token);

        await WaitForAnswersAsync(load, 100);
        var workersBefore = await ShardNodesAsync();
        await fixture.Cluster.AddWorkerAsync();
        var moveStart = load.Now;
        await fixture.Cluster.ExecuteAsync("SELECT citus_rebalance_start()");
        await fixture.Cluster.ExecuteAsync("SELECT citus_rebalance_wait()", timeoutSeconds: 900);
        var moveEnd = load.Now;
        var before = load.Answers.Where(a => a.End < moveStart).ToList();
        var during = load.Answers.Where(a => a.Start >= moveStart && a.End <= moveEnd).ToList();
        await WaitForAnswersAsync(load, load.Answers.Count + 100);
        await stop.CancelAsync();
        await running;

        var workersAfter = await ShardNodesAsync();
        Assert.True(workersAfter == fixture.Cluster.Workers.Count && workersAfter > workersBefore,
            $"The rebalance spread the shards over {workersAfter} of {fixture.Cluster.Workers.Count} workers (before: {workersBefore}).");
        var rows = await CheckEverythingAsync(load, clients);
        Report("rebalance under load", load, rows,
            $"the rebalance onto worker {fixture.Cluster.Workers.Count} took {(moveEnd - moveStart).TotalSeconds:0.0} s; {during.Count} answers during it, "
            + $"p99 {Percentile(during, 0.99):0} ms and slowest {Percentile(during, 1):0} ms (before it: p99 {Percentile(before, 0.99):0} ms, slowest {Percentile(before, 1):0} ms)");
    }

    [Fact]
    public async Task A_worker_stopped_for_ten_seconds_answers_its_users_503_serves_the_others_and_recovers_without_a_restart()
    {
        var clients = await CreateClientsAsync();
        var worker = fixture.Cluster.Workers[^1];
        var onWorker = new HashSet<Guid>();
        await using (var db = new NpgsqlConnection(fixture.Cluster.ConnectionString))
        {
            foreach (var client in clients)
            {
                var port = await db.QuerySingleAsync<int>(
                    "SELECT nodeport FROM citus_shards WHERE table_name = 'users'::regclass AND shardid = get_shard_id_for_distribution_column('users', @id::text)",
                    new { id = client.UserId.ToString() });
                if (port == worker.Port)
                {
                    onWorker.Add(client.UserId);
                }
            }
        }

        Assert.True(onWorker.Count > 0 && onWorker.Count < clients.Count, $"{onWorker.Count} of {clients.Count} users live on the worker to stop; the test needs some on it and some elsewhere.");

        var load = new CitusLoad();
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(clients, stop.Token);
        await WaitForAnswersAsync(load, 100);

        await worker.StopAsync("immediate");
        var down = load.Now;
        await Task.Delay(TimeSpan.FromSeconds(10));
        var up = load.Now;
        await worker.StartAgainAsync();
        var ready = load.Now;

        // Every user is served again by the same API (no restart): each gets a 2xx that began after the restart.
        await TestRows.EventuallyAsync(
            () => Task.FromResult(clients.All(c => load.Answers.Any(a => a.UserId == c.UserId && a.Start > up && a.Status is >= 200 and < 300))),
            "every user is served again after the worker restarts", TimeSpan.FromSeconds(90));
        var recovered = load.Now;
        await stop.CancelAsync();
        await running;

        // While it was down (a second's grace at each end for requests in flight at the stop):
        // its users got 503 only, the others were served and never got a 503.
        var window = load.Answers.Where(a => a.Start > down + TimeSpan.FromSeconds(1) && a.End < up).ToList();
        var theirs = window.Where(a => onWorker.Contains(a.UserId)).ToList();
        var others = window.Where(a => !onWorker.Contains(a.UserId)).ToList();
        Assert.NotEmpty(theirs);
        Assert.All(theirs, a => Assert.True(a.Status == 503 && a.RetryAfter, $"{a.Route} for a user on the stopped worker answered {a.Status}"));
        Assert.True(others.Count(a => a.Status is >= 200 and < 300) > 0, "users on the other workers were not served while one was down");
        Assert.All(others, a => Assert.True(a.Status is >= 200 and < 300, $"{a.Route} for a user on a running worker answered {a.Status}"));

        var rows = await CheckEverythingAsync(load, clients);
        Report("worker stopped 10 s under load", load, rows,
            $"{onWorker.Count} of {clients.Count} users on the stopped worker: {theirs.Count} answers to them while it was down, all 503; {others.Count} answers to the others, all 2xx; "
            + $"the worker took {(ready - up).TotalSeconds:0.0} s to start again (crash recovery) and every user had a 2xx {(recovered - ready).TotalSeconds:0.0} s after that");
    }

    private static double Percentile(List<LoadAnswer> answers, double p)
    {
        if (answers.Count == 0)
        {
            return 0;
        }

        var sorted = answers.Select(a => (a.End - a.Start).TotalMilliseconds).Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private async Task<List<LoadClient>> CreateClientsAsync()
    {
        var clients = new List<LoadClient>();
        for (var i = 0; i < Users; i++)
        {
            var id = Guid.NewGuid();
            var email = $"scale-{id:N}@example.com";
            await using (var db = new NpgsqlConnection(fixture.Cluster.ConnectionString))
            {
                await db.ExecuteAsync("INSERT INTO users (id, email) VALUES (@id, @email)", new { id, email });
            }

            var client = ApiTest.ClientFor(fixture.Factory, id, email);
            var habit = await client.CreateHabitIdAsync();
            clients.Add(new LoadClient(id, habit, client));
        }

        return clients;
    }

    private static Task WaitForAnswersAsync(CitusLoad load, int count) =>
        TestRows.EventuallyAsync(() => Task.FromResult(load.Answers.Count >= count), $"the load has {count} answers", TimeSpan.FromSeconds(120));

    private async Task<int> ShardNodesAsync() =>
        (int)await fixture.Cluster.ScalarAsync<long>("SELECT count(DISTINCT nodeport) FROM citus_shards WHERE colocation_id = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'users'::regclass)");

    /// <summary>Every acknowledged write stored exactly once and pulled by its client's cursor, with no 410 and only 2xx or 503 + Retry-After.</summary>
    private async Task<int> CheckEverythingAsync(CitusLoad load, List<LoadClient> clients)
    {
        Assert.Empty(load.Unexpected);
        var rows = 0;
        await using var db = new NpgsqlConnection(fixture.Cluster.ConnectionString);
        foreach (var client in clients)
        {
            using var done = new CancellationTokenSource();
            await client.PullAsync(load, done.Token);
            Assert.Equal(0, client.Gone);
            var stored = (await db.QueryAsync<(Guid Id, long Copies)>(
                "SELECT id, count(*) FROM habit_entries WHERE user_id = @userId AND id = ANY(@ids) GROUP BY id",
                new { userId = client.UserId, ids = client.Acknowledged.ToArray() })).ToList();
            Assert.Equal(client.Acknowledged.Count, stored.Count);
            Assert.All(stored, s => Assert.Equal(1, s.Copies));
            Assert.Empty(client.Acknowledged.Except(client.Pulled));
            rows += stored.Count;
        }

        Assert.Empty(load.Unexpected);

        // Each shard has exactly one placement: a move left no second copy behind.
        Assert.Equal(0L, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM (SELECT shardid FROM citus_shards GROUP BY shardid HAVING count(*) > 1) AS twice"));
        return rows;
    }

    private void Report(string run, CitusLoad load, int rows, string detail)
    {
        var answers = load.Answers;
        var line = new StringBuilder()
            .Append(run).Append(": ")
            .Append(answers.Count).Append(" requests, ")
            .Append(answers.Count(a => a.Status == 503)).Append(" answered 503 (all with Retry-After), ")
            .Append(answers.Count(a => a.Status is < 200 or >= 300 && a.Status != 503)).Append(" other non-2xx, ")
            .Append("longest 503 window ").Append(load.LongestUnavailable().TotalSeconds.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)).Append(" s, ")
            .Append(rows).Append(" acknowledged rows checked; ").Append(detail)
            .ToString();
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("KANSO_SCALEOUT_REPORT") is { Length: > 0 } path)
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }
    }
}
