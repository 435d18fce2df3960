using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kanso.Api.Tests.Features.PushChanges;

/// <summary>
/// The v1.1 traps of the push protocol: a replay answers the record as it is now, a create over an
/// existing id with other data is a conflict, replays are recognised by meaning, and mutations are
/// remembered at least as long as tombstones.
/// </summary>
public sealed class PushReplayTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task A_replay_after_another_device_deleted_the_record_answers_the_tombstone_not_a_live_copy()
    {
        var user = await CreateUserAsync();
        var habit = Guid.NewGuid();
        var create = new { mutations = new[] { new { mutation_id = "create-x", op = "upsert_habit", id = habit, data = new { title = "X" } } } };
        var first = await user.Client.PushAsync(create);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);

        var replay = await user.Client.PushAsync(create);

        var result = Assert.Single(replay["results"]!.AsArray())!;
        Assert.Equal("applied", (string?)first["results"]![0]!["status"]);
        Assert.Equal("applied", (string?)result["status"]);
        Assert.True((bool?)result["replayed"]);
        Assert.NotNull(result["record"]!["deleted_at"]);
        Assert.Equal(2, (int)result["record"]!["version"]!);
        Assert.False((bool)first["results"]![0]!["replayed"]!);
    }

    [Fact]
    public async Task A_replay_answers_the_record_as_it_is_now_after_a_later_edit()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Read" });
        var edit = new { mutations = new[] { new { mutation_id = "edit", op = "upsert_habit", id = habit, version = 1, data = new { title = "Read more" } } } };
        await user.Client.PushAsync(edit);
        await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{habit}", new { version = 2, title = "Read less" })).ShouldBeAsync(200);

        var replay = await user.Client.PushAsync(edit);

        var result = replay["results"]![0]!;
        Assert.Equal(("applied", true), ((string?)result["status"], (bool?)result["replayed"]));
        Assert.Equal(("Read less", 3), ((string)result["record"]!["title"]!, (int)result["record"]!["version"]!));
    }

    [Fact]
    public async Task A_replay_of_an_entry_whose_habit_was_deleted_answers_the_entry_tombstone()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var entry = Guid.NewGuid();
        var create = new { mutations = new[] { new { mutation_id = "e", op = "upsert_entry", id = entry, data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } } } };
        await user.Client.PushAsync(create);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);

        var replay = await user.Client.PushAsync(create);

        var result = replay["results"]![0]!;
        Assert.True((bool?)result["replayed"]);
        Assert.NotNull(result["record"]!["deleted_at"]);
    }

    [Fact]
    public async Task A_replay_of_a_rejected_or_not_found_mutation_answers_the_same_status_without_a_record()
    {
        var user = await CreateUserAsync();
        var body = new
        {
            mutations = new object[]
            {
                new { mutation_id = "bad", op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "Bad", color = "red" } },
                new { mutation_id = "gone", op = "delete_entry", id = Guid.NewGuid() },
            },
        };
        var first = await user.Client.PushAsync(body);

        var replay = await user.Client.PushAsync(body);

        var results = replay["results"]!.AsArray();
        Assert.Equal(["rejected", "not_found"], results.Select(r => (string)r!["status"]!));
        Assert.All(results, r => Assert.True((bool?)r!["replayed"]));
        Assert.True(JsonNode.DeepEquals(first["results"]![0]!["errors"], results[0]!["errors"]));
        Assert.All(results, r => Assert.Null(r!["record"]));
    }

    [Fact]
    public async Task A_create_for_an_existing_id_with_other_data_is_a_conflict_with_the_current_record()
    {
        var user = await CreateUserAsync();
        var habit = Guid.NewGuid();
        await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m1", op = "upsert_habit", id = habit, data = new { title = "Read" } } } });
        await using var db = await OpenDatabaseAsync();
        var before = await SyncApi.SnapshotAsync(db, user.Id);

        // The answer to m1 was lost; the app merged a later edit into a new create (the v1.0 README's advice).
        var response = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m2", op = "upsert_habit", id = habit, data = new { title = "Read 20 pages" } } } });

        var result = Assert.Single(response["results"]!.AsArray())!;
        Assert.Equal("conflict", (string?)result["status"]);
        Assert.Equal(("Read", 1), ((string)result["record"]!["title"]!, (int)result["record"]!["version"]!));
        Assert.Equal(before, await SyncApi.SnapshotAsync(db, user.Id));
    }

    [Fact]
    public async Task A_create_for_an_existing_id_with_the_same_data_is_applied_with_the_stored_copy()
    {
        var user = await CreateUserAsync();
        var habit = Guid.NewGuid();
        var entry = Guid.NewGuid();
        await user.Client.PushAsync(new
        {
            mutations = new object[]
            {
                new { mutation_id = "h1", op = "upsert_habit", id = habit, data = (object)new { title = " Read ", color = "#fff", frequency_type = "specific_days", weekdays = new[] { 3, 1 } } },
                new { mutation_id = "e1", op = "upsert_entry", id = entry, data = (object)new { habit_id = habit, completion_date = "2026-03-08T09:00:00+02:00", value = 2 } },
            },
        });

        var response = await user.Client.PushAsync(new
        {
            mutations = new object[]
            {
                new { mutation_id = "h2", op = "upsert_habit", id = habit, data = (object)new { title = "Read", color = "#fff", frequency_type = "specific_days", weekdays = new[] { 1, 3 }, interval = (int?)null } },
                new { mutation_id = "e2", op = "upsert_entry", id = entry, data = (object)new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", value = 2.0 } },
            },
        });

        Assert.Equal(["applied", "applied"], response["results"]!.AsArray().Select(r => (string)r!["status"]!));
    }

    [Fact]
    public async Task A_create_of_an_entry_for_an_existing_id_with_another_value_is_a_conflict()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var entry = Guid.NewGuid();
        await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "e1", op = "upsert_entry", id = entry, data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", value = 1 } } } });

        var response = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "e2", op = "upsert_entry", id = entry, data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", value = 3 } } } });

        var result = response["results"]![0]!;
        Assert.Equal(("conflict", 1.0), ((string?)result["status"], (double)result["record"]!["value"]!));
    }

    [Fact]
    public async Task A_replay_is_the_same_mutation_whatever_unknown_properties_and_number_spelling_it_carries()
    {
        var user = await CreateUserAsync();
        var habit = Guid.NewGuid();
        var first = $$$"""{"mutations":[{"mutation_id":"m","op":"upsert_habit","id":"{{{habit}}}","version":0,"data":{"title":"Run","type":"numeric","target_value":1,"weekdays":null}}]}""";
        var again = $$$"""{"mutations":[{"mutation_id":"m","op":"upsert_habit","id":"{{{habit.ToString().ToUpperInvariant()}}}","client_seq":7,"data":{"title":"Run","type":"numeric","target_value":1.0e0,"weekdays":null,"device":"phone"}}]}""";

        var one = await (await user.Client.PostAsync("/api/v1/sync/push", RecordApi.Json(first))).ShouldBeAsync(200);
        var two = await (await user.Client.PostAsync("/api/v1/sync/push", RecordApi.Json(again))).ShouldBeAsync(200);

        Assert.Equal("applied", (string?)one["results"]![0]!["status"]);
        Assert.Equal(("applied", true), ((string?)two["results"]![0]!["status"], (bool?)two["results"]![0]!["replayed"]));
    }

    [Fact]
    public async Task A_replay_with_another_value_is_still_a_reused_mutation_id()
    {
        var user = await CreateUserAsync();
        var habit = Guid.NewGuid();
        await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m", op = "upsert_habit", id = habit, data = new { title = "Run", sort_order = 1 } } } });

        var response = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "m", op = "upsert_habit", id = habit, data = new { title = "Run", sort_order = 2 } } } });

        Assert.Equal("rejected", (string?)response["results"]![0]!["status"]);
        Assert.NotNull(response["results"]![0]!["errors"]!["mutation_id"]);
    }

    [Fact]
    public async Task A_replay_weeks_later_within_the_tombstone_retention_is_still_recognised()
    {
        var user = await CreateUserAsync();
        var habit = Guid.NewGuid();
        var create = new { mutations = new[] { new { mutation_id = "late", op = "upsert_habit", id = habit, data = new { title = "X" } } } };
        await user.Client.PushAsync(create);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);
        await using var db = await OpenDatabaseAsync();

        // Move the rows back in time rather than the shared clock forward: 29 days, inside the 30-day tombstone retention.
        await db.ExecuteAsync(
            "UPDATE habits SET deleted_at = ((deleted_at AT TIME ZONE 'UTC') - interval '29 days') AT TIME ZONE 'UTC', updated_at = ((updated_at AT TIME ZONE 'UTC') - interval '29 days') AT TIME ZONE 'UTC', created_at = ((created_at AT TIME ZONE 'UTC') - interval '29 days') AT TIME ZONE 'UTC' WHERE user_id = @id; UPDATE sync_mutations SET created_at = ((created_at AT TIME ZONE 'UTC') - interval '29 days') AT TIME ZONE 'UTC' WHERE user_id = @id",
            new { id = user.Id });
        await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);

        var replay = await user.Client.PushAsync(create);

        var result = replay["results"]![0]!;
        Assert.True((bool?)result["replayed"], result.ToJsonString());
        Assert.NotNull(result["record"]!["deleted_at"]);
        Assert.Equal(1, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM sync_mutations WHERE user_id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task Mutations_are_remembered_at_least_as_long_as_tombstones()
    {
        var options = Factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SyncOptions>>().Value;

        Assert.True(options.MutationMemory >= options.TombstoneRetention && options.MutationRetention >= options.TombstoneRetention, $"{options.MutationRetention} < {options.TombstoneRetention}");
        await Task.CompletedTask;
    }
}
