using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.PullChanges;

public sealed class PullChangesConcurrencyTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const int Rounds = 20;
    private const int Writers = 4;
    private const int OperationsPerWriter = 30;

    [Fact]
    public async Task A_puller_following_its_cursor_during_concurrent_writes_ends_with_the_servers_copy_every_round()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var user = await CreateUserAsync();
            var copy = new LocalCopy();
            var versions = new VersionWatch();
            var limit = 1 + (round % 7);
            await PullAndWatchAsync(user.Client, copy, versions, limit);

            var writers = Enumerable.Range(0, Writers)
                .Select(w => Task.Run(() => new SyncWriter(ClientFor(Factory, user.Id, user.Email), seed: round * 100 + w).RunAsync(OperationsPerWriter)))
                .ToArray();
            var writing = Task.WhenAll(writers);
            var pulls = 0;
            while (!writing.IsCompleted)
            {
                await PullAndWatchAsync(user.Client, copy, versions, limit);
                pulls++;
            }

            await writing;
            await PullAndWatchAsync(user.Client, copy, versions, limit);

            await using var db = await OpenDatabaseAsync();
            var (habits, entries) = await SyncApi.StoredAsync(db, user.Id);
            Assert.True(pulls > 0, $"round {round}: the puller never ran during the writes");
            Assert.Equal(Sorted(habits), Sorted(copy.Habits));
            Assert.Equal(Sorted(entries), Sorted(copy.Entries));
        }
    }

    private static async Task PullAndWatchAsync(HttpClient client, LocalCopy copy, VersionWatch versions, int limit)
    {
        foreach (var page in await client.PullAllAsync(copy, limit))
        {
            versions.Check(page);
        }
    }

    private static List<KeyValuePair<Guid, RecordState>> Sorted(Dictionary<Guid, RecordState> records) => [.. records.OrderBy(r => r.Key)];

    /// <summary>A record never comes back in an older state than one already pulled.</summary>
    private sealed class VersionWatch
    {
        private readonly Dictionary<Guid, int> _seen = [];

        public void Check(System.Text.Json.Nodes.JsonNode page)
        {
            foreach (var record in page["habits"]!.AsArray().Concat(page["entries"]!.AsArray()))
            {
                var id = Guid.Parse((string)record!["id"]!);
                var version = (int)record["version"]!;
                Assert.True(!_seen.TryGetValue(id, out var before) || before <= version, $"{id} went back from version {before} to {version}");
                _seen[id] = version;
            }
        }
    }
}
