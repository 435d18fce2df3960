using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.PushChanges;

/// <summary>A push can reach only its own user's records, and every sync route needs a valid token.</summary>
public sealed class PushIsolationTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Another_users_ids_in_every_op_touch_nothing_of_theirs()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var habit = await alice.Client.CreateHabitIdAsync(new { title = "Alice's" });
        var entry = await alice.Client.CreateEntryIdAsync(habit);
        await using var db = await OpenDatabaseAsync();
        var before = await SyncApi.SnapshotAsync(db, alice.Id);

        var response = await bob.Client.PushAsync(new
        {
            mutations = new object[]
            {
                new { mutation_id = "1", op = "upsert_habit", id = habit, version = 1, data = (object)new { title = "Bob was here" } },
                new { mutation_id = "2", op = "delete_habit", id = habit, version = 1 },
                new { mutation_id = "3", op = "delete_habit", id = habit },
                new { mutation_id = "4", op = "upsert_entry", id = Guid.NewGuid(), data = (object)new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } },
                new { mutation_id = "5", op = "upsert_entry", id = entry, version = 1, data = (object)new { value = 9 } },
                new { mutation_id = "6", op = "delete_entry", id = entry, version = 1 },
                new { mutation_id = "7", op = "delete_entry", id = entry },
                new { mutation_id = "8", op = "upsert_entry", id = entry, data = (object)new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } },
            },
        });

        Assert.All(response["results"]!.AsArray(), r => Assert.Equal("not_found", (string?)r!["status"]));
        Assert.All(response["results"]!.AsArray(), r => Assert.Null(r!["record"]));
        Assert.Equal(before, await SyncApi.SnapshotAsync(db, alice.Id));
        var pulled = await bob.Client.PullAsync(null);
        Assert.Empty(pulled["habits"]!.AsArray());
        Assert.Empty(pulled["entries"]!.AsArray());
    }

    [Fact]
    public async Task A_create_with_another_users_id_is_a_separate_record_of_ones_own()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var habit = await alice.Client.CreateHabitIdAsync(new { title = "Alice's" });
        await using var db = await OpenDatabaseAsync();
        var before = await SyncApi.SnapshotAsync(db, alice.Id);

        var response = await bob.Client.PushAsync(new { mutations = new[] { new { mutation_id = "c", op = "upsert_habit", id = habit, data = new { title = "Bob's" } } } });

        var result = response["results"]![0]!;
        Assert.Equal(("applied", "Bob's", 1), ((string?)result["status"], (string?)result["record"]!["title"], (int)result["record"]!["version"]!));
        Assert.Equal(before, await SyncApi.SnapshotAsync(db, alice.Id));
    }

    [Theory]
    [InlineData("GET", "/api/v1/sync/pull")]
    [InlineData("POST", "/api/v1/sync/push")]
    [InlineData("GET", "/api/v1/habits/sync")]
    [InlineData("GET", "/api/v1/entries/sync")]
    public async Task Every_sync_route_is_401_without_a_valid_token(string method, string url)
    {
        var user = await CreateUserAsync();
        string?[] tokens = [null, "garbage", Factory.Tokens.Issue(user.Id, user.Email).Token + "x", Factory.Tokens.Issue(Guid.NewGuid(), "nobody@example.com").Token];

        foreach (var token in tokens)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url)
            {
                Content = method == "POST" ? RecordApi.Json("""{"mutations": []}""") : null,
            };
            if (token is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }

            await (await Anonymous().SendAsync(request)).ShouldBeProblemAsync(401);
        }
    }
}
