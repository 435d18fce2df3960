using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Kanso.Api.Tests.Infrastructure;
using Npgsql;

namespace Kanso.Api.Tests.Citus;

/// <summary>
/// The migrations distribute the schema themselves: a database migrated while Citus had no worker
/// (as on a single PostgreSQL) keeps its tables local; once workers are added, the next start-up
/// distributes every table by user, co-located with users, and logins by email, with the rows it
/// already held; later start-ups change nothing.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class DistributionTests
{
    [Fact]
    public async Task A_database_migrated_without_workers_is_distributed_by_user_at_the_next_start_with_its_data_and_only_once()
    {
        await using var cluster = await CitusCluster.StartAsync(workers: 0);
        var credentials = new { email = "alice@example.com", password = "correct horse battery" };
        Guid userId;
        await using (var single = new KansoApiFactory(cluster.ConnectionString, redis: null))
        {
            var anonymous = single.CreateClient();
            userId = Guid.Parse((string)(await (await anonymous.PostAsJsonAsync("/api/v1/auth/register", credentials)).ShouldBeAsync(201))["id"]!);
            var alice = await LoginAsync(single, credentials);
            var habit = await alice.CreateHabitIdAsync();
            for (var day = 1; day <= 3; day++)
            {
                await alice.CreateEntryAsync(habit, $"2026-03-0{day}T07:00:00Z");
            }
        }

        Assert.Equal(0L, await cluster.ScalarAsync<long>("SELECT count(*) FROM pg_dist_partition"));

        await cluster.AddWorkerAsync();
        await cluster.AddWorkerAsync();
        await using (var distributed = new KansoApiFactory(cluster.ConnectionString, redis: null))
        {
            _ = distributed.Server; // migrates
            await AssertDistributedAsync(cluster);

            var alice = await LoginAsync(distributed, credentials);
            var copy = new LocalCopy();
            await alice.PullAllAsync(copy);
            Assert.Single(copy.Habits);
            Assert.Equal(3, copy.Entries.Count);
            await (await distributed.CreateClient().PostAsJsonAsync("/api/v1/auth/register", new { email = "ALICE@example.com", password = "another password" }))
                .ShouldBeProblemAsync(409);
            Assert.Equal(0L, await cluster.ScalarAsync<long>("SELECT pg_relation_size('habit_entries') + pg_relation_size('users') + pg_relation_size('logins')"));
        }

        await using (var again = new KansoApiFactory(cluster.ConnectionString, redis: null))
        {
            _ = again.Server;
            await AssertDistributedAsync(cluster);
            var alice = await LoginAsync(again, credentials);
            var copy = new LocalCopy();
            await alice.PullAllAsync(copy);
            Assert.Equal(3, copy.Entries.Count);
        }

        await using var db = new NpgsqlConnection(cluster.ConnectionString);
        Assert.Equal(1L, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM users WHERE id = @userId", new { userId }));
    }

    private static async Task AssertDistributedAsync(CitusCluster cluster)
    {
        await using var db = new NpgsqlConnection(cluster.ConnectionString);
        var tables = (await db.QueryAsync<(string Table, string Column, int Colocation)>("""
            SELECT logicalrelid::text, column_to_column_name(logicalrelid, partkey), colocationid
            FROM pg_dist_partition ORDER BY 1
            """)).ToDictionary(t => t.Table);
        Assert.Equal(["habit_entries", "habits", "logins", "sessions", "sync_mutations", "time_off", "users"], tables.Keys.Order());
        Assert.Equal("id", tables["users"].Column);
        Assert.All(new[] { "habits", "habit_entries", "sync_mutations", "sessions", "time_off" }, t =>
        {
            Assert.Equal("user_id", tables[t].Column);
            Assert.Equal(tables["users"].Colocation, tables[t].Colocation);
        });
        Assert.Equal("email", tables["logins"].Column);
        Assert.NotEqual(tables["users"].Colocation, tables["logins"].Colocation);
        Assert.Equal(2L, await db.ExecuteScalarAsync<long>("SELECT count(DISTINCT nodeport) FROM citus_shards"));
    }

    private static async Task<HttpClient> LoginAsync(KansoApiFactory factory, object credentials)
    {
        var login = await (await factory.CreateClient().PostAsJsonAsync("/api/v1/auth/login", credentials)).ShouldBeAsync(200);
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["token"]!);
        return client;
    }
}
