using System.Net.Http.Json;
using Dapper;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.CreateEntry;

public sealed class CreateEntryTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Created_with_version_1_value_1_and_every_contract_field()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-08T07:00:00.1234567+01:00" });

        var body = (await response.ShouldBeAsync(201)).AsObject();
        Assert.Equal(["id", "habit_id", "completion_date", "local_date", "kind", "value", "notes", "version", "created_at", "updated_at", "deleted_at"], body.Select(p => p.Key));
        Assert.Equal($"/api/v1/entries/{body["id"]}", response.Headers.Location?.ToString());
        Assert.Equal((habit.ToString(), "2026-03-08T06:00:00.123456Z", 1d, 1), ((string?)body["habit_id"], (string?)body["completion_date"], (double)body["value"]!, (int)body["version"]!));
        Assert.Null(body["notes"]);
        Assert.Null(body["deleted_at"]);
        Assert.Equal((string?)body["created_at"], (string?)body["updated_at"]);
    }

    [Fact]
    public async Task Created_with_the_client_id_value_and_notes()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Pages", type = "numeric", target_value = 20 });
        var id = Guid.NewGuid();

        var response = await user.Client.PostAsJsonAsync("/api/v1/entries", new { id, habit_id = habit, completion_date = "2026-03-08T07:00:00Z", value = 12.5, notes = "chapter 3" });

        var body = await response.ShouldBeAsync(201);
        Assert.Equal((id.ToString(), 12.5, "chapter 3"), ((string?)body["id"], (double)body["value"]!, (string?)body["notes"]));
    }

    [Fact]
    public async Task Created_with_value_0_when_minus_0_is_sent()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.PostAsync("/api/v1/entries", RecordApi.Json($$"""{"habit_id":"{{habit}}","completion_date":"2026-03-08T07:00:00Z","value":-0}"""));

        Assert.Equal("0", (await response.ShouldBeAsync(201))["value"]!.ToJsonString());
    }

    [Fact]
    public async Task Created_under_the_users_change_number_and_counted_in_the_streak()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var entry = await user.Client.CreateEntryIdAsync(habit, Kanso.Api.Infrastructure.Json.WireFormat.Format(Factory.Clock.GetCurrentInstant()));

        await using var db = await OpenDatabaseAsync();
        Assert.Equal(2L, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM habit_entries WHERE id = @entry", new { entry }));
        await TestRows.EventuallyAsync(
            async () => await db.ExecuteScalarAsync<int>("SELECT current_streak FROM habits WHERE id = @habit", new { habit }) == 1,
            "the streak worker counts today's entry");
    }

    [Fact]
    public async Task Not_found_and_nothing_written_when_the_habit_is_another_users()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var habit = await alice.Client.CreateHabitIdAsync();

        var response = await bob.Client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" });

        await response.ShouldBeProblemAsync(404, "habit not found");
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habit_entries"));
        Assert.False(await db.ExecuteScalarAsync<bool>("SELECT streak_dirty FROM habits WHERE id = @habit", new { habit }));
    }

    [Fact]
    public async Task Not_found_when_the_habit_is_deleted()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        await user.Client.DeleteAsync($"/api/v1/habits/{habit}");

        var response = await user.Client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" });

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Fact]
    public async Task Not_found_when_the_habit_does_not_exist()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/entries", new { habit_id = Guid.NewGuid(), completion_date = "2026-03-08T07:00:00Z" });

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Theory]
    [InlineData("""{"completion_date":"2026-03-08T07:00:00Z"}""", "habit_id")]
    [InlineData("""{"habit_id":"HABIT"}""", "completion_date")]
    [InlineData("""{"habit_id":"HABIT","completion_date":null}""", "completion_date")]
    [InlineData("""{"habit_id":"HABIT","completion_date":"2026-03-08T07:00:00Z","value":null}""", "value")]
    [InlineData("""{"habit_id":"HABIT","completion_date":"2026-03-08T07:00:00Z","value":1000001}""", "value")]
    public async Task Bad_request_with_the_field_when_the_entry_is_invalid(string json, string field)
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.PostAsync("/api/v1/entries", RecordApi.Json(json.Replace("HABIT", habit.ToString())));

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.Equal([field], body["errors"]!.AsObject().Select(p => p.Key));
    }

    [Theory]
    [InlineData("""{"habit_id":"HABIT","completion_date":"2026-03-08T07:00:00"}""", "completion_date")]
    [InlineData("""{"habit_id":"HABIT","completion_date":"2026-03-08"}""", "completion_date")]
    [InlineData("""{"habit_id":"HABIT","completion_date":"2026-03-08T07:00:00Z","value":"1"}""", "value")]
    [InlineData("""{"habit_id":"nope","completion_date":"2026-03-08T07:00:00Z"}""", "habit_id")]
    public async Task Bad_request_naming_the_field_when_a_value_has_the_wrong_type(string json, string field)
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.PostAsync("/api/v1/entries", RecordApi.Json(json.Replace("HABIT", habit.ToString())));

        var body = await response.ShouldBeProblemAsync(400, "invalid json");
        Assert.NotNull(body["errors"]![field]);
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().PostAsJsonAsync("/api/v1/entries", new { habit_id = Guid.NewGuid(), completion_date = "2026-03-08T07:00:00Z" });

        await response.ShouldBeProblemAsync(401);
    }
}
