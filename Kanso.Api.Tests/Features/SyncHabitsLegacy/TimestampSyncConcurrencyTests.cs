using System.Text.Json.Nodes;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.SyncHabitsLegacy;

/// <summary>The legacy timestamp routes under concurrent writes: following the returned timestamps never misses a change.</summary>
public sealed class TimestampSyncConcurrencyTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const int Rounds = 20;
    private const int Writers = 4;
    private const int OperationsPerWriter = 30;

    [Fact]
    public async Task A_client_following_the_returned_timestamps_during_concurrent_writes_ends_with_the_servers_copy_every_round()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var user = await CreateUserAsync();
            var copy = new LocalCopy();
            string? habitsSince = null;
            string? entriesSince = null;
            var writing = Task.WhenAll(Enumerable.Range(0, Writers)
                .Select(w => Task.Run(() => new SyncWriter(ClientFor(Factory, user.Id, user.Email), seed: 7_000 + round * 100 + w).RunAsync(OperationsPerWriter))));
            var reads = 0;
            while (!writing.IsCompleted)
            {
                (habitsSince, entriesSince) = await SyncAsync(user.Client, copy, habitsSince, entriesSince);
                reads++;
            }

            await writing;
            await SyncAsync(user.Client, copy, habitsSince, entriesSince);

            await using var db = await OpenDatabaseAsync();
            var (habits, entries) = await SyncApi.StoredAsync(db, user.Id);
            Assert.True(reads > 0, $"round {round}: the client never synced during the writes");
            Assert.Equal(habits.OrderBy(h => h.Key), copy.Habits.OrderBy(h => h.Key));
            Assert.Equal(entries.OrderBy(e => e.Key), copy.Entries.OrderBy(e => e.Key));
        }
    }

    private static async Task<(string Habits, string Entries)> SyncAsync(HttpClient client, LocalCopy copy, string? habitsSince, string? entriesSince)
    {
        var habits = await (await client.GetAsync("/api/v1/habits/sync" + (habitsSince is null ? "" : $"?last_sync={Uri.EscapeDataString(habitsSince)}"))).ShouldBeAsync(200);
        var entries = await (await client.GetAsync("/api/v1/entries/sync" + (entriesSince is null ? "" : $"?since={Uri.EscapeDataString(entriesSince)}"))).ShouldBeAsync(200);
        copy.Apply(new JsonObject { ["habits"] = habits["changes"]!.DeepClone(), ["entries"] = entries["changes"]!.DeepClone() });
        return ((string)habits["timestamp"]!, (string)entries["timestamp"]!);
    }
}
