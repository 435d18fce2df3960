using System.Net.Http.Json;
using Dapper;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.UpdateEntry;

public sealed class UpdateEntryTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Ok_with_version_2_changing_only_the_sent_fields()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Pages", type = "numeric", target_value = 10 });
        var created = await (await user.Client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", value = 4, notes = "n" })).ShouldBeAsync(201);

        var response = await user.Client.PutAsJsonAsync($"/api/v1/entries/{created["id"]}", new { version = 1, value = 8 });

        var body = await response.ShouldBeAsync(200);
        Assert.Equal((2, 8d, "n", "2026-03-08T07:00:00.000000Z"), ((int)body["version"]!, (double)body["value"]!, (string?)body["notes"], (string?)body["completion_date"]));
        Assert.True(string.CompareOrdinal((string?)body["updated_at"], (string?)created["updated_at"]) > 0);
    }

    [Fact]
    public async Task Ok_with_value_0_when_minus_0_is_sent()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var entry = await user.Client.CreateEntryIdAsync(habit);

        var response = await user.Client.PutAsync($"/api/v1/entries/{entry}", RecordApi.Json("""{"version":1,"value":-0.0}"""));

        Assert.Equal("0", (await response.ShouldBeAsync(200))["value"]!.ToJsonString());
    }

    [Fact]
    public async Task Ok_moving_the_completion_date_and_ignoring_a_habit_id()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var other = await user.Client.CreateHabitIdAsync(new { title = "Other" });
        var id = await user.Client.CreateEntryIdAsync(habit);

        var response = await user.Client.PutAsJsonAsync($"/api/v1/entries/{id}", new { version = 1, completion_date = "2026-03-09T23:30:00-02:00", habit_id = other, notes = "late" });

        var body = await response.ShouldBeAsync(200);
        Assert.Equal(("2026-03-10T01:30:00.000000Z", habit.ToString(), "late"), ((string?)body["completion_date"], (string?)body["habit_id"], (string?)body["notes"]));
    }

    [Fact]
    public async Task Ok_and_the_streak_recomputed_with_the_new_value()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Run", type = "numeric", target_value = 2 });
        var id = Guid.Parse((string)(await user.Client.CreateEntryAsync(habit, Kanso.Api.Infrastructure.Json.WireFormat.Format(Factory.Clock.GetCurrentInstant()), value: 1))["id"]!);
        await using var db = await OpenDatabaseAsync();
        await TestRows.EventuallyAsync(async () => await StreakAsync(db, habit) == (0, false), "a value of 1 misses the target of 2");

        await (await user.Client.PutAsJsonAsync($"/api/v1/entries/{id}", new { version = 1, value = 2 })).ShouldBeAsync(200);

        await TestRows.EventuallyAsync(async () => await StreakAsync(db, habit) == (1, false), "a value of 2 meets the target");
    }

    private static async Task<(int Current, bool Dirty)> StreakAsync(Npgsql.NpgsqlConnection db, Guid habit) =>
        await db.QuerySingleAsync<(int, bool)>("SELECT current_streak, streak_dirty FROM habits WHERE id = @habit", new { habit });

    [Theory]
    [InlineData("""{"version":1,"value":null}""", "value")]
    [InlineData("""{"version":1,"value":-1}""", "value")]
    [InlineData("""{"version":1,"completion_date":null}""", "completion_date")]
    [InlineData("""{"value":2}""", "version")]
    public async Task Bad_request_with_the_field_when_the_update_is_invalid(string json, string field)
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateEntryIdAsync(await user.Client.CreateHabitIdAsync());

        var response = await user.Client.PutAsync($"/api/v1/entries/{id}", RecordApi.Json(json));

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.Equal([field], body["errors"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Conflict_with_current_and_nothing_changed_when_the_version_is_stale()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateEntryIdAsync(await user.Client.CreateHabitIdAsync());
        var updated = await (await user.Client.PutAsJsonAsync($"/api/v1/entries/{id}", new { version = 1, value = 2 })).ShouldBeAsync(200);

        var response = await user.Client.PutAsJsonAsync($"/api/v1/entries/{id}", new { version = 1, value = 3 });

        var body = await response.ShouldBeProblemAsync(409, "version conflict");
        Assert.Equal(updated.ToJsonString(), body["current"]!.ToJsonString());
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(3, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task Conflict_with_the_tombstone_when_the_entry_is_deleted()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateEntryIdAsync(await user.Client.CreateHabitIdAsync());
        await user.Client.DeleteAsync($"/api/v1/entries/{id}");

        var response = await user.Client.PutAsJsonAsync($"/api/v1/entries/{id}", new { version = 2, value = 3 });

        var body = await response.ShouldBeProblemAsync(409, "version conflict");
        Assert.NotNull((string?)body["current"]!["deleted_at"]);
        Assert.Equal(1, (double)body["current"]!["value"]!);
    }

    [Fact]
    public async Task Not_found_and_unchanged_when_the_entry_is_another_users()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var id = await alice.Client.CreateEntryIdAsync(await alice.Client.CreateHabitIdAsync());

        var response = await bob.Client.PutAsJsonAsync($"/api/v1/entries/{id}", new { version = 1, value = 7 });

        await response.ShouldBeProblemAsync(404, "entry not found");
        Assert.Equal(1, (double)(await (await alice.Client.GetAsync($"/api/v1/entries/{id}")).ShouldBeAsync(200))["value"]!);
    }

    [Fact]
    public async Task Not_found_when_the_entry_does_not_exist()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PutAsJsonAsync($"/api/v1/entries/{Guid.NewGuid()}", new { version = 1, value = 7 });

        await response.ShouldBeProblemAsync(404, "entry not found");
    }

    [Fact]
    public async Task Exactly_one_of_16_concurrent_updates_with_the_same_version_wins()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateEntryIdAsync(await user.Client.CreateHabitIdAsync());

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            user.Client.PutAsJsonAsync($"/api/v1/entries/{id}", new { version = 1, value = i + 10 })));

        Assert.Equal(1, responses.Count(r => (int)r.StatusCode == 200));
        Assert.Equal(15, responses.Count(r => (int)r.StatusCode == 409));
        var stored = await (await user.Client.GetAsync($"/api/v1/entries/{id}")).ShouldBeAsync(200);
        Assert.Equal(2, (int)stored["version"]!);
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().PutAsJsonAsync($"/api/v1/entries/{Guid.NewGuid()}", new { version = 1 });

        await response.ShouldBeProblemAsync(401);
    }
}
