using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kanso.Api.Tests.Features.PullChanges;

/// <summary>
/// The pull guarantee under every kind of writer at once: REST writes, push batches, the streak
/// worker (which changes habits without a new version) and the tombstone purge, with a puller
/// following its cursor all along. After each round, everything acknowledged before the round ended
/// has been seen, and every record's full content equals the server's.
/// </summary>
public sealed class PullMixedWritersTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const int Rounds = 5;

    [Fact]
    public async Task A_puller_sees_every_acknowledged_write_and_the_servers_full_content_after_each_round()
    {
        var user = await CreateUserAsync();
        var purger = Factory.Services.GetRequiredService<SyncPurger>();
        await using var db = await OpenDatabaseAsync();

        // Old tombstones for the purge to remove while the rounds run (below the puller's first cursor, so no 410).
        for (var i = 0; i < 3; i++)
        {
            var old = await user.Client.CreateHabitIdAsync(new { title = $"Old {i}" });
            await user.Client.CreateEntryIdAsync(old);
            await (await user.Client.DeleteAsync($"/api/v1/habits/{old}")).ShouldBeAsync(204);
        }

        await db.ExecuteAsync(
            """
            UPDATE habits SET deleted_at = ((deleted_at AT TIME ZONE 'UTC') - interval '40 days') AT TIME ZONE 'UTC' WHERE user_id = @id AND deleted_at IS NOT NULL;
            UPDATE habit_entries SET deleted_at = ((deleted_at AT TIME ZONE 'UTC') - interval '40 days') AT TIME ZONE 'UTC' WHERE user_id = @id AND deleted_at IS NOT NULL;
            """,
            new { id = user.Id });

        var copy = new Dictionary<Guid, JsonNode>();
        string? cursor = null;
        cursor = await PullIntoAsync(user.Client, copy, cursor);
        var purged = 0;

        for (var round = 0; round < Rounds; round++)
        {
            var acknowledged = new ConcurrentBag<(Guid Id, int Version)>();
            var rest = Enumerable.Range(0, 2)
                .Select(w => Task.Run(() => new SyncWriter(ClientFor(Factory, user.Id, user.Email), seed: (round * 10) + w).RunAsync(15)));
            var push = Task.Run(() => PushWriterAsync(ClientFor(Factory, user.Id, user.Email), round, acknowledged));
            var writing = Task.WhenAll([.. rest, push]);
            var purging = Task.Run(async () =>
            {
                while (!writing.IsCompleted)
                {
                    var result = await purger.PurgeAsync(CancellationToken.None);
                    Interlocked.Add(ref purged, result.Habits + result.Entries);
                }
            });

            while (!writing.IsCompleted)
            {
                cursor = await PullIntoAsync(user.Client, copy, cursor);
            }

            await writing;
            await purging;

            // The streak worker recomputes after each commit: once the user has no dirty habit, it is done.
            await TestRows.EventuallyAsync(
                async () => await db.ExecuteScalarAsync<long>("SELECT count(*) FROM habits WHERE user_id = @id AND streak_dirty", new { id = user.Id }) == 0,
                "the streak worker has caught up", TimeSpan.FromSeconds(60));
            cursor = await PullIntoAsync(user.Client, copy, cursor);

            foreach (var (id, version) in acknowledged)
            {
                Assert.True(copy.TryGetValue(id, out var seen) && (int)seen["version"]! >= version, $"round {round}: {id} v{version} acknowledged but not pulled");
            }

            var server = new Dictionary<Guid, JsonNode>();
            await PullIntoAsync(user.Client, server, null);
            var live = copy.Where(r => r.Value["deleted_at"] is null).ToDictionary(r => r.Key, r => r.Value);
            Assert.Equal(server.Keys.Order(), live.Keys.Order());
            foreach (var (id, record) in server)
            {
                Assert.True(JsonNode.DeepEquals(record, live[id]), $"round {round}: {id}\nserver: {record.ToJsonString()}\npulled: {live[id].ToJsonString()}");
            }
        }

        Assert.Equal(6, purged);
    }

    /// <summary>Pulls from <paramref name="cursor"/> until has_more is false, keeping each record's latest full content.</summary>
    private static async Task<string> PullIntoAsync(HttpClient client, Dictionary<Guid, JsonNode> records, string? cursor)
    {
        while (true)
        {
            var page = await client.PullAsync(cursor, limit: 7);
            foreach (var record in page["habits"]!.AsArray().Concat(page["entries"]!.AsArray()))
            {
                records[Guid.Parse((string)record!["id"]!)] = record.DeepClone();
            }

            cursor = (string)page["cursor"]!;
            if (!(bool)page["has_more"]!)
            {
                return cursor;
            }
        }
    }

    /// <summary>Batches of a new habit with entries (dated today, so streaks change) and a delete of an earlier entry.</summary>
    private static async Task PushWriterAsync(HttpClient client, int round, ConcurrentBag<(Guid, int)> acknowledged)
    {
        Guid? previous = null;
        for (var batch = 0; batch < 4; batch++)
        {
            var habit = Guid.NewGuid();
            var entries = new[] { Guid.NewGuid(), Guid.NewGuid() };
            var today = DateTime.UtcNow.ToString("O");
            var mutations = new List<object>
            {
                new { mutation_id = $"{round}-{batch}-h", op = "upsert_habit", id = habit, data = (object)new { title = $"Pushed {round}.{batch}", start_date = "2026-01-01T00:00:00Z" } },
                new { mutation_id = $"{round}-{batch}-e0", op = "upsert_entry", id = entries[0], data = (object)new { habit_id = habit, completion_date = today } },
                new { mutation_id = $"{round}-{batch}-e1", op = "upsert_entry", id = entries[1], data = (object)new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } },
            };
            if (previous is { } earlier)
            {
                mutations.Add(new { mutation_id = $"{round}-{batch}-d", op = "delete_entry", id = earlier, version = 1 });
            }

            var response = await client.PushAsync(new { mutations });
            foreach (var result in response["results"]!.AsArray())
            {
                Assert.Equal("applied", (string?)result!["status"]);
                acknowledged.Add((Guid.Parse((string)result["record"]!["id"]!), (int)result["record"]!["version"]!));
            }

            previous = entries[1];
        }
    }
}
