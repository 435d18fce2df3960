using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Kanso.Api.Tests.Features.PushChanges;

public sealed class PushChangesTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task A_mixed_batch_answers_each_mutation_in_order()
    {
        var user = await CreateUserAsync();
        var (stale, doomedEntry, newHabit, firstEntry, secondEntry, body) = await MixedBatchAsync(user.Client);

        var response = await user.Client.PushAsync(body);

        var results = response["results"]!.AsArray();
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "m6", "m7"], results.Select(r => (string)r!["mutation_id"]!));
        Assert.Equal(["applied", "applied", "applied", "conflict", "applied", "rejected", "not_found"], results.Select(r => (string)r!["status"]!));
        Assert.Equal(newHabit, Guid.Parse((string)results[0]!["record"]!["id"]!));
        Assert.Equal(1, (int)results[0]!["record"]!["version"]!);
        Assert.Equal((firstEntry, newHabit), (Guid.Parse((string)results[1]!["record"]!["id"]!), Guid.Parse((string)results[1]!["record"]!["habit_id"]!)));
        Assert.Equal(secondEntry, Guid.Parse((string)results[2]!["record"]!["id"]!));
        Assert.Equal((stale, 2, "Second"), (Guid.Parse((string)results[3]!["record"]!["id"]!), (int)results[3]!["record"]!["version"]!, (string)results[3]!["record"]!["title"]!));
        Assert.Equal(doomedEntry, Guid.Parse((string)results[4]!["record"]!["id"]!));
        Assert.NotNull(results[4]!["record"]!["deleted_at"]);
        Assert.NotNull(results[5]!["errors"]!["color"]);
        Assert.Null(results[5]!["record"]);
        Assert.Null(results[6]!["record"]);
        Assert.All(results.Take(5), r => Assert.Null(r!["errors"]));
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(2, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habit_entries WHERE habit_id = @newHabit AND deleted_at IS NULL", new { newHabit }));
        Assert.Equal("Second", await db.ExecuteScalarAsync<string>("SELECT title FROM habits WHERE id = @stale", new { stale }));
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habits WHERE title = 'Bad color'"));
    }

    [Fact]
    public async Task A_replayed_batch_returns_the_first_results_and_changes_nothing()
    {
        var user = await CreateUserAsync();
        var (_, _, _, _, _, body) = await MixedBatchAsync(user.Client);
        var first = await user.Client.PushAsync(body);
        await using var db = await OpenDatabaseAsync();
        var before = await SyncApi.SnapshotAsync(db, user.Id);

        var replay = await user.Client.PushAsync(body);

        Assert.True(JsonNode.DeepEquals(Unmarked(first["results"]), Unmarked(replay["results"])), $"{first["results"]}\n{replay["results"]}");
        Assert.All(replay["results"]!.AsArray(), r => Assert.True((bool?)r!["replayed"]));
        Assert.All(first["results"]!.AsArray(), r => Assert.False((bool?)r!["replayed"]));
        Assert.Equal(before, await SyncApi.SnapshotAsync(db, user.Id));
        Assert.Equal(7, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM sync_mutations WHERE user_id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task A_replay_returns_the_first_result_as_it_was_written()
    {
        var user = await CreateUserAsync();
        var habit = Guid.NewGuid();
        var body = new
        {
            mutations = new object[]
            {
                new { mutation_id = "h", op = "upsert_habit", id = habit, data = new { title = "Run", type = "numeric", target_value = 1e308 } },
                new { mutation_id = "e", op = "upsert_entry", id = Guid.NewGuid(), data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", value = 0.0000001 } },
            },
        };
        var first = await user.Client.PushAsync(body);

        var replay = await user.Client.PushAsync(body);

        Assert.Equal(Unmarked(first["results"])!.ToJsonString(), Unmarked(replay["results"])!.ToJsonString());
    }

    [Fact]
    public async Task A_replay_within_one_batch_returns_the_first_result_and_applies_once()
    {
        var user = await CreateUserAsync();
        var mutation = new { mutation_id = "same", op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "Once" } };

        var response = await user.Client.PushAsync(new { mutations = new[] { mutation, mutation } });

        var results = response["results"]!.AsArray();
        Assert.True(JsonNode.DeepEquals(Unmarked(results[0]), Unmarked(results[1])));
        Assert.Equal((false, true), ((bool)results[0]!["replayed"]!, (bool)results[1]!["replayed"]!));
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(1L, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task Rejected_with_errors_mutation_id_when_the_id_is_reused_with_another_body()
    {
        var user = await CreateUserAsync();
        var habit = Guid.NewGuid();
        await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m1", op = "upsert_habit", id = habit, data = new { title = "First" } } } });
        await using var db = await OpenDatabaseAsync();
        var before = await SyncApi.SnapshotAsync(db, user.Id);

        var response = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m1", op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "Other" } } } });

        var result = Assert.Single(response["results"]!.AsArray())!;
        Assert.Equal(("m1", "rejected"), ((string)result["mutation_id"]!, (string)result["status"]!));
        Assert.NotNull(result["errors"]!["mutation_id"]);
        Assert.Equal(before, await SyncApi.SnapshotAsync(db, user.Id));
    }

    [Fact]
    public async Task A_replay_is_recognised_whatever_the_property_order_and_spacing()
    {
        var user = await CreateUserAsync();
        var id = Guid.NewGuid();
        var first = $$$"""{"mutations":[{"mutation_id":"m","op":"upsert_habit","id":"{{{id}}}","data":{"title":"Read","color":"#fff"}}]}""";
        var again = $$$"""{ "mutations": [ { "data": { "color": "#fff", "title": "Read" }, "id": "{{{id}}}", "op": "upsert_habit", "mutation_id": "m" } ] }""";

        var one = await (await user.Client.PostAsync("/api/v1/sync/push", RecordApi.Json(first))).ShouldBeAsync(200);
        var two = await (await user.Client.PostAsync("/api/v1/sync/push", RecordApi.Json(again))).ShouldBeAsync(200);

        Assert.True(JsonNode.DeepEquals(Unmarked(one["results"]), Unmarked(two["results"])));
        Assert.True((bool?)two["results"]![0]!["replayed"]);
    }

    [Fact]
    public async Task Two_concurrent_pushes_of_the_same_mutations_apply_them_once()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var body = new
        {
            mutations = Enumerable.Range(0, 20).Select(i => new
            {
                mutation_id = $"m{i}",
                op = "upsert_entry",
                id = Guid.NewGuid(),
                data = new { habit_id = habit, completion_date = $"2026-03-{i + 1:00}T07:00:00Z" },
            }).ToArray(),
        };

        var pushes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => ClientFor(Factory, user.Id, user.Email).PushAsync(body))));

        Assert.All(pushes, p => Assert.True(JsonNode.DeepEquals(Unmarked(pushes[0]["results"]), Unmarked(p["results"]))));
        Assert.Single(pushes, p => p["results"]!.AsArray().All(r => !(bool)r!["replayed"]!));
        Assert.All(pushes[0]["results"]!.AsArray(), r => Assert.Equal("applied", (string?)r!["status"]));
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(20, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habit_entries WHERE user_id = @id", new { id = user.Id }));
        Assert.Equal(21L, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task Malformed_mutations_are_rejected_one_by_one_and_the_rest_applies()
    {
        var user = await CreateUserAsync();
        var id = Guid.NewGuid();
        var json = $$$"""
            {"mutations": [
                42,
                {"op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": {"title": "No mutation id"}},
                {"mutation_id": "", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": {"title": "Empty mutation id"}},
                {"mutation_id": 7, "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": {"title": "Numeric mutation id"}},
                {"mutation_id": "a", "op": "rename_habit", "id": "{{{Guid.NewGuid()}}}"},
                {"mutation_id": "b", "op": "upsert_habit", "data": {"title": "No id"}},
                {"mutation_id": "c", "op": "upsert_habit", "id": "not-a-uuid", "data": {"title": "Bad id"}},
                {"mutation_id": "d", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": [1, 2]},
                {"mutation_id": "e", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": {"title": 5}},
                {"mutation_id": "f", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "version": -1, "data": {"title": "Negative"}},
                {"mutation_id": "g", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "version": "1", "data": {"title": "Text version"}},
                {"mutation_id": "h", "op": "upsert_entry", "id": "{{{Guid.NewGuid()}}}", "data": {"completion_date": "2026-03-08T07:00:00Z"}},
                {"mutation_id": "i", "op": "upsert_entry", "id": "{{{Guid.NewGuid()}}}", "data": {"habit_id": "{{{Guid.NewGuid()}}}", "completion_date": "2026-03-08T07:00:00"}},
                {"mutation_id": "j", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": {"title": "NUL \u0000"}},
                {"mutation_id": "k", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": {}},
                {"mutation_id": "ok", "op": "upsert_habit", "id": "{{{id}}}", "data": {"title": "Fine"}}
            ]}
            """;

        var response = await (await user.Client.PostAsync("/api/v1/sync/push", RecordApi.Json(json))).ShouldBeAsync(200);

        var results = response["results"]!.AsArray();
        Assert.Equal(16, results.Count);
        Assert.All(results.Take(15), r => Assert.Equal("rejected", (string?)r!["status"]));
        Assert.Equal("applied", (string?)results[15]!["status"]);
        string[] fields = ["mutation", "mutation_id", "mutation_id", "mutation_id", "op", "id", "id", "data", "title", "version", "version", "habit_id", "completion_date", "title", "title"];
        for (var i = 0; i < fields.Length; i++)
        {
            Assert.True(results[i]!["errors"]![fields[i]] is not null, $"mutation {i}: {results[i]}");
        }

        Assert.Null(results[1]!["mutation_id"]);
        Assert.Equal("a", (string?)results[4]!["mutation_id"]);
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(1, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habits WHERE user_id = @userId", new { userId = user.Id }));
    }

    [Fact]
    public async Task Strings_that_are_not_valid_unicode_reject_their_mutation_not_the_push()
    {
        var user = await CreateUserAsync();
        var json = $$$"""
            {"mutations": [
                {"mutation_id": "x\ud800", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": {"title": "Read"}},
                {"mutation_id": "y", "op": "upsert_habit", "id": "{{{Guid.NewGuid()}}}", "data": {"title": "a\udc00b"}},
                {"mutation_id": "z", "op": "upsert_\ud800", "id": "{{{Guid.NewGuid()}}}"}
            ]}
            """;

        var response = await (await user.Client.PostAsync("/api/v1/sync/push", RecordApi.Json(json))).ShouldBeAsync(200);

        var results = response["results"]!.AsArray();
        Assert.All(results, r => Assert.Equal("rejected", (string?)r!["status"]));
        Assert.NotNull(results[0]!["errors"]!["mutation_id"]);
        Assert.NotNull(results[1]!["errors"]!["title"]);
        Assert.NotNull(results[2]!["errors"]!["op"]);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"mutations": null}""")]
    [InlineData("""{"mutations": {}}""")]
    [InlineData("""{"mutations": "all"}""")]
    [InlineData("[]")]
    [InlineData("null")]
    public async Task Bad_request_when_the_envelope_is_malformed(string json)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsync("/api/v1/sync/push", RecordApi.Json(json));

        await response.ShouldBeProblemAsync(400);
    }

    [Fact]
    public async Task Bad_request_and_nothing_applied_when_there_are_501_mutations()
    {
        var user = await CreateUserAsync();
        var mutations = Enumerable.Range(0, 501).Select(i => new { mutation_id = $"m{i}", op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "H" } });

        var response = await user.Client.PostAsJsonAsync("/api/v1/sync/push", new { mutations });

        var body = await response.ShouldBeProblemAsync(400);
        Assert.NotNull(body["errors"]!["mutations"]);
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habits WHERE user_id = @userId", new { userId = user.Id }));
    }

    [Fact]
    public async Task Five_hundred_mutations_are_applied_in_one_push()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var mutations = Enumerable.Range(0, 500).Select(i => new
        {
            mutation_id = $"m{i}",
            op = "upsert_entry",
            id = Guid.NewGuid(),
            data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", value = i % 7 },
        });

        var response = await user.Client.PushAsync(new { mutations });

        Assert.All(response["results"]!.AsArray(), r => Assert.Equal("applied", (string?)r!["status"]));
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(501L, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task The_push_cursor_reads_its_writes_and_nothing_changed_answers_the_current_position()
    {
        var user = await CreateUserAsync();
        var copy = new LocalCopy();
        await user.Client.PullAllAsync(copy);
        var habit = Guid.NewGuid();
        var entry = Guid.NewGuid();

        var push = await user.Client.PushAsync(new
        {
            mutations = new object[]
            {
                new { mutation_id = "h", op = "upsert_habit", id = habit, data = new { title = "Read" } },
                new { mutation_id = "e", op = "upsert_entry", id = entry, data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } },
            },
        });
        var nothing = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "x", op = "delete_habit", id = Guid.NewGuid() } } });
        var fromPushCursor = await user.Client.PullAsync((string)push["cursor"]!);
        await user.Client.PullAllAsync(copy);

        Assert.True(copy.Habits.ContainsKey(habit));
        Assert.True(copy.Entries.ContainsKey(entry));
        Assert.Empty(fromPushCursor["habits"]!.AsArray());
        Assert.Empty(fromPushCursor["entries"]!.AsArray());
        Assert.Equal((string)push["cursor"]!, (string)nothing["cursor"]!);
        Assert.Equal((string)push["cursor"]!, copy.Cursor);
    }

    [Fact]
    public async Task Deletes_apply_with_tombstones_check_versions_and_repeat_harmlessly()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var entry = await user.Client.CreateEntryIdAsync(habit);
        var other = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.PushAsync(new
        {
            mutations = new object[]
            {
                new { mutation_id = "1", op = "delete_entry", id = entry, version = 2 },
                new { mutation_id = "2", op = "delete_entry", id = entry, version = 1 },
                new { mutation_id = "3", op = "delete_entry", id = entry },
                new { mutation_id = "4", op = "delete_habit", id = habit },
                new { mutation_id = "5", op = "delete_habit", id = other, version = 0 },
                new { mutation_id = "6", op = "upsert_entry", id = Guid.NewGuid(), data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } },
                new { mutation_id = "7", op = "upsert_habit", id = habit, version = 2, data = new { title = "Back?" } },
                new { mutation_id = "8", op = "delete_entry", id = Guid.NewGuid() },
            },
        });

        var results = response["results"]!.AsArray();
        Assert.Equal(["conflict", "applied", "applied", "applied", "applied", "not_found", "conflict", "not_found"], results.Select(r => (string)r!["status"]!));
        Assert.Equal(1, (int)results[0]!["record"]!["version"]!);
        Assert.Equal(2, (int)results[1]!["record"]!["version"]!);
        Assert.Equal(results[1]!["record"]!.ToJsonString(), results[2]!["record"]!.ToJsonString());
        Assert.NotNull(results[3]!["record"]!["deleted_at"]);
        Assert.NotNull(results[6]!["record"]!["deleted_at"]);
    }

    [Fact]
    public async Task Creating_an_id_the_user_already_has_with_the_same_fields_is_applied_with_the_stored_copy_and_changes_nothing()
    {
        var user = await CreateUserAsync();
        var stored = await user.Client.CreateHabitAsync(new { id = Guid.NewGuid(), title = "Original" });
        await using var db = await OpenDatabaseAsync();
        var before = await SyncApi.SnapshotAsync(db, user.Id);

        var response = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m", op = "upsert_habit", id = Guid.Parse((string)stored["id"]!), data = new { title = "Original" } } } });

        var result = Assert.Single(response["results"]!.AsArray())!;
        Assert.Equal("applied", (string?)result["status"]);
        Assert.Equal(stored.ToJsonString(), result["record"]!.ToJsonString());
        Assert.Equal(before, await SyncApi.SnapshotAsync(db, user.Id));
    }

    [Fact]
    public async Task An_update_is_partial_and_checked_against_the_merged_record()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Read", color = "#123456" });

        var response = await user.Client.PushAsync(new
        {
            mutations = new object[]
            {
                new { mutation_id = "1", op = "upsert_habit", id = habit, version = 1, data = new { frequency_type = "weekly" } },
                new { mutation_id = "2", op = "upsert_habit", id = habit, version = 1, data = new { frequency_type = "weekly", times_per_week = 3 } },
            },
        });

        var results = response["results"]!.AsArray();
        Assert.Equal("rejected", (string?)results[0]!["status"]);
        Assert.NotNull(results[0]!["errors"]!["times_per_week"]);
        Assert.Equal("applied", (string?)results[1]!["status"]);
        Assert.Equal(("Read", "#123456", 3, 2), ((string)results[1]!["record"]!["title"]!, (string)results[1]!["record"]!["color"]!, (int)results[1]!["record"]!["times_per_week"]!, (int)results[1]!["record"]!["version"]!));
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(2L, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task Entry_mutations_mark_their_habits_for_a_streak_recompute()
    {
        // A host of its own whose streak worker is stopped: nothing can clear the flag before it is read
        // (the shared host's worker and its sweep would, in a race with this read).
        var database = await Fixture.CreateIsolatedDatabaseAsync();
        await using var host = new KansoApiFactory(database, redis: null, new Dictionary<string, string?> { ["Streaks:SweepInterval"] = "1.00:00:00" });
        _ = host.Server;
        await host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<Kanso.Api.Domain.Streaks.StreakWorker>().Single().StopAsync(CancellationToken.None);
        var user = await host.InsertUserAsync(database);
        var habit = await user.Client.CreateHabitIdAsync();
        await using var db = new Npgsql.NpgsqlConnection(database);
        await db.OpenAsync();
        await db.ExecuteAsync("UPDATE habits SET streak_dirty = false WHERE id = @habit", new { habit });
        var worker = Factory.Services.GetRequiredService<Kanso.Api.Domain.Streaks.StreakRecalculator>();
        var recomputedBefore = worker.Recomputed;

        var pushed = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "e", op = "upsert_entry", id = Guid.NewGuid(), data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } } } });

        // The push marks the habit dirty and queues it; the worker, which recomputes only dirty (or
        // due) habits and then clears the mark, may already have taken it when we look.
        Assert.Equal("applied", (string?)pushed["results"]![0]!["status"]);
        Assert.True(await db.ExecuteScalarAsync<bool>("SELECT streak_dirty FROM habits WHERE id = @habit", new { habit }) || worker.Recomputed > recomputedBefore);
    }

    [Fact]
    public async Task Processed_mutations_are_forgotten_after_the_retention()
    {
        var user = await CreateUserAsync();
        var body = new { mutations = new[] { new { mutation_id = "old", op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "Read" } } } };
        await user.Client.PushAsync(body);
        var purger = Factory.Services.GetRequiredService<SyncPurger>();
        Factory.Clock.Advance(Duration.FromDays(29));
        var early = await purger.PurgeAsync(CancellationToken.None);
        Factory.Clock.Advance(Duration.FromDays(2));

        var late = await purger.PurgeAsync(CancellationToken.None);

        Assert.Equal(0, early.Mutations);
        Assert.Equal(1, late.Mutations);
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM sync_mutations"));
    }

    [Fact]
    public async Task The_other_users_mutation_ids_and_records_are_their_own()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var shared = Guid.NewGuid();
        await alice.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m", op = "upsert_habit", id = shared, data = new { title = "Alice's" } } } });

        var response = await bob.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m", op = "upsert_habit", id = shared, version = 1, data = new { title = "Bob's" } } } });

        Assert.Equal("not_found", (string?)response["results"]![0]!["status"]);
        var mine = await bob.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m2", op = "delete_habit", id = shared } } });
        Assert.Equal("not_found", (string?)mine["results"]![0]!["status"]);
    }

    /// <summary>Results without their <c>replayed</c> marks, to compare a first answer with its replay.</summary>
    private static JsonNode? Unmarked(JsonNode? results)
    {
        var copy = results?.DeepClone();
        foreach (var result in copy is JsonArray array ? array.Select(r => r!.AsObject()) : copy is JsonObject one ? [one] : [])
        {
            result.Remove("replayed");
        }

        return copy;
    }

    /// <summary>
    /// Create a habit, two entries on it, a stale update of another habit (conflict), a delete of an
    /// entry, an invalid habit (rejected) and a delete of an unknown id (not found).
    /// </summary>
    private static async Task<(Guid Stale, Guid DoomedEntry, Guid NewHabit, Guid FirstEntry, Guid SecondEntry, object Body)> MixedBatchAsync(HttpClient client)
    {
        var stale = await client.CreateHabitIdAsync(new { title = "First" });
        await (await client.PutAsJsonAsync($"/api/v1/habits/{stale}", new { version = 1, title = "Second" })).ShouldBeAsync(200);
        var doomedEntry = await client.CreateEntryIdAsync(stale);
        var newHabit = Guid.NewGuid();
        var firstEntry = Guid.NewGuid();
        var secondEntry = Guid.NewGuid();
        var body = new
        {
            mutations = new object[]
            {
                new { mutation_id = "m1", op = "upsert_habit", id = newHabit, version = 0, data = new { title = "Meditate", type = "timer", target_value = 10 } },
                new { mutation_id = "m2", op = "upsert_entry", id = firstEntry, data = new { habit_id = newHabit, completion_date = "2026-03-08T07:00:00Z", value = 12 } },
                new { mutation_id = "m3", op = "upsert_entry", id = secondEntry, data = new { habit_id = newHabit, completion_date = "2026-03-09T07:00:00+02:00", notes = "short" } },
                new { mutation_id = "m4", op = "upsert_habit", id = stale, version = 1, data = new { title = "Stale edit" } },
                new { mutation_id = "m5", op = "delete_entry", id = doomedEntry, version = 1 },
                new { mutation_id = "m6", op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "Bad color", color = "red" } },
                new { mutation_id = "m7", op = "delete_habit", id = Guid.NewGuid() },
            },
        };
        return (stale, doomedEntry, newHabit, firstEntry, secondEntry, body);
    }
}
