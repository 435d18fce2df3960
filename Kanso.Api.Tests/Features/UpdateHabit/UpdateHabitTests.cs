using System.Net.Http.Json;
using Dapper;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.UpdateHabit;

public sealed class UpdateHabitTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Streaks_recomputed_when_the_target_changes_and_untouched_when_only_the_title_does()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Pages", type = "numeric", target_value = 1 });
        await user.Client.CreateEntryAsync(habit, Kanso.Api.Infrastructure.Json.WireFormat.Format(Factory.Clock.GetCurrentInstant()), value: 1);
        await using var db = await OpenDatabaseAsync();
        await TestRows.EventuallyAsync(async () => await StreakAsync(db, habit) == (1, false), "today's entry makes a streak of 1");

        var renamed = await user.Client.PutAsJsonAsync($"/api/v1/habits/{habit}", new { version = 1, title = "Reading" });
        var dirtyAfterRename = (await StreakAsync(db, habit)).Dirty;
        var retargeted = await user.Client.PutAsJsonAsync($"/api/v1/habits/{habit}", new { version = 2, target_value = 2 });

        await renamed.ShouldBeAsync(200);
        await retargeted.ShouldBeAsync(200);
        Assert.False(dirtyAfterRename);
        await TestRows.EventuallyAsync(async () => await StreakAsync(db, habit) == (0, false), "a value of 1 no longer meets a target of 2");
    }

    private static async Task<(int Current, bool Dirty)> StreakAsync(Npgsql.NpgsqlConnection db, Guid habit) =>
        await db.QuerySingleAsync<(int, bool)>("SELECT current_streak, streak_dirty FROM habits WHERE id = @habit", new { habit });

    [Fact]
    public async Task Ok_with_version_2_changing_only_the_sent_fields()
    {
        var user = await CreateUserAsync();
        var created = await user.Client.CreateHabitAsync(new { title = "Read", description = "d", icon = "book", type = "numeric", target_value = 10, unit = "pages" });

        var response = await user.Client.PutAsJsonAsync($"/api/v1/habits/{created["id"]}", new { version = 1, title = "  Read more ", target_value = 20 });

        var body = (await response.ShouldBeAsync(200)).AsObject();
        Assert.Equal(2, (int)body["version"]!);
        Assert.Equal(("Read more", 20d), ((string?)body["title"], (double)body["target_value"]!));
        Assert.Equal(("d", "book", "pages", "numeric"), ((string?)body["description"], (string?)body["icon"], (string?)body["unit"], (string?)body["type"]));
        Assert.Equal((string?)created["created_at"], (string?)body["created_at"]);
        Assert.True(string.CompareOrdinal((string?)body["updated_at"], (string?)created["updated_at"]) > 0);
    }

    [Fact]
    public async Task Ok_clearing_fields_sent_as_null_and_keeping_absent_ones()
    {
        var user = await CreateUserAsync();
        var created = await user.Client.CreateHabitAsync(new
        {
            title = "Read",
            description = "d",
            icon = "book",
            unit = "pages",
            reminder_time = "07:30",
            color = "#abc",
            // A fixed start, so the end stays after it whatever the date the test runs on.
            start_date = "2026-01-01T00:00:00Z",
            end_date = "2030-01-01T00:00:00Z",
            archived_at = "2026-03-01T00:00:00Z",
        });

        var response = await user.Client.PutAsync($"/api/v1/habits/{created["id"]}", RecordApi.Json(
            """{"version":1,"description":null,"icon":null,"reminder_time":null,"end_date":null,"archived_at":null,"color":null}"""));

        var body = (await response.ShouldBeAsync(200)).AsObject();
        Assert.Null(body["description"]);
        Assert.Null(body["icon"]);
        Assert.Null(body["reminder_time"]);
        Assert.Null(body["end_date"]);
        Assert.Null(body["archived_at"]);
        Assert.Null(body["color"]);
        Assert.Equal("pages", (string?)body["unit"]);
    }

    [Fact]
    public async Task Ok_archiving_and_unarchiving()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();

        var archived = await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, archived_at = "2026-03-08T10:00:00+02:00" })).ShouldBeAsync(200);
        var restored = await (await user.Client.PutAsync($"/api/v1/habits/{id}", RecordApi.Json("""{"version":2,"archived_at":null}"""))).ShouldBeAsync(200);

        Assert.Equal("2026-03-08T08:00:00.000000Z", (string?)archived["archived_at"]);
        Assert.Null(restored["archived_at"]);
    }

    [Fact]
    public async Task Ok_forcing_target_1_when_the_type_becomes_boolean()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync(new { title = "Pages", type = "numeric", target_value = 30 });

        var response = await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, type = "boolean" });

        Assert.Equal(1, (double)(await response.ShouldBeAsync(200))["target_value"]!);
    }

    [Fact]
    public async Task Ok_switching_frequency_with_its_parameter_and_dropping_the_old_one()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync(new { title = "Gym", frequency_type = "specific_days", weekdays = new[] { 1, 3 } });

        var response = await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, frequency_type = "weekly", times_per_week = 3 });

        var body = await response.ShouldBeAsync(200);
        Assert.Equal(("weekly", 3), ((string?)body["frequency_type"], (int)body["times_per_week"]!));
        Assert.Null(body["weekdays"]);
    }

    [Theory]
    [InlineData("""{"version":1,"frequency_type":"weekly"}""", "times_per_week")]
    [InlineData("""{"version":1,"frequency_type":"specific_days","weekdays":[]}""", "weekdays")]
    [InlineData("""{"version":1,"end_date":"2000-01-01T00:00:00Z"}""", "end_date")]
    [InlineData("""{"version":1,"title":null}""", "title")]
    [InlineData("""{"version":1,"type":null}""", "type")]
    [InlineData("""{"version":1,"type":"numeric","target_value":0}""", "target_value")]
    [InlineData("""{"title":"No version"}""", "version")]
    public async Task Bad_request_with_the_field_and_nothing_changed_when_the_update_is_invalid(string json, string field)
    {
        var user = await CreateUserAsync();
        var created = await user.Client.CreateHabitAsync();

        var response = await user.Client.PutAsync($"/api/v1/habits/{created["id"]}", RecordApi.Json(json));

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.Equal([field], body["errors"]!.AsObject().Select(p => p.Key));
        var stored = await (await user.Client.GetAsync($"/api/v1/habits/{created["id"]}")).ShouldBeAsync(200);
        Assert.Equal(created.ToJsonString(), stored.ToJsonString());
    }

    [Fact]
    public async Task Conflict_with_current_when_the_version_is_stale()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();
        var updated = await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, title = "Second" })).ShouldBeAsync(200);

        var response = await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, title = "Stale" });

        var body = await response.ShouldBeProblemAsync(409, "version conflict");
        Assert.Equal(updated.ToJsonString(), body["current"]!.ToJsonString());
    }

    [Fact]
    public async Task Conflict_with_a_newer_version_than_stored()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 5, title = "Future" });

        var body = await response.ShouldBeProblemAsync(409, "version conflict");
        Assert.Equal(1, (int)body["current"]!["version"]!);
    }

    [Fact]
    public async Task Conflict_with_the_tombstone_when_the_habit_is_deleted()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();
        await user.Client.DeleteAsync($"/api/v1/habits/{id}");

        var response = await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 2, title = "Revive" });

        var body = await response.ShouldBeProblemAsync(409, "version conflict");
        Assert.NotNull((string?)body["current"]!["deleted_at"]);
        Assert.Equal(("Read", 2), ((string?)body["current"]!["title"], (int)body["current"]!["version"]!));
    }

    [Fact]
    public async Task Not_found_and_unchanged_when_the_habit_is_another_users()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var id = await alice.Client.CreateHabitIdAsync();

        var response = await bob.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, title = "Mine now" });

        await response.ShouldBeProblemAsync(404, "habit not found");
        Assert.Equal("Read", (string?)(await (await alice.Client.GetAsync($"/api/v1/habits/{id}")).ShouldBeAsync(200))["title"]);
    }

    [Fact]
    public async Task Not_found_when_the_habit_does_not_exist()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PutAsJsonAsync($"/api/v1/habits/{Guid.NewGuid()}", new { version = 1, title = "Ghost" });

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Fact]
    public async Task Change_number_taken_only_by_an_applied_update()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();

        await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, title = "Applied" })).ShouldBeAsync(200);
        await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, title = "Stale" })).ShouldBeProblemAsync(409);
        await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 2, frequency_type = "weekly" })).ShouldBeProblemAsync(400);

        await using var db = await OpenDatabaseAsync();
        var (rowSeq, userSeq) = await db.QuerySingleAsync<(long, long)>(
            "SELECT h.change_seq, u.change_seq FROM habits h JOIN users u ON u.id = h.user_id WHERE h.id = @id", new { id });
        Assert.Equal((2L, 2L), (rowSeq, userSeq));
    }

    [Fact]
    public async Task Exactly_one_of_16_concurrent_updates_with_the_same_version_wins()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, title = $"Writer {i}" })));

        Assert.Single(responses, r => (int)r.StatusCode == 200);
        var conflicts = responses.Where(r => (int)r.StatusCode == 409).ToArray();
        Assert.Equal(15, conflicts.Length);
        var winner = await responses.Single(r => (int)r.StatusCode == 200).ShouldBeAsync(200);
        foreach (var conflict in conflicts)
        {
            var body = await conflict.ShouldBeProblemAsync(409, "version conflict");
            Assert.Equal(winner.ToJsonString(), body["current"]!.ToJsonString());
        }

        var stored = await (await user.Client.GetAsync($"/api/v1/habits/{id}")).ShouldBeAsync(200);
        Assert.Equal(2, (int)stored["version"]!);
        Assert.Equal((string?)winner["title"], (string?)stored["title"]);
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().PutAsJsonAsync($"/api/v1/habits/{Guid.NewGuid()}", new { version = 1 });

        await response.ShouldBeProblemAsync(401);
    }
}
