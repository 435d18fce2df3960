using System.Net.Http.Json;
using Dapper;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.DeleteHabit;

public sealed class DeleteHabitTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task No_content_and_the_habit_and_its_live_entries_tombstoned_under_one_change_number()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var first = await user.Client.CreateEntryIdAsync(habit);
        var second = await user.Client.CreateEntryIdAsync(habit, "2026-03-09T07:00:00Z");
        var deletedBefore = await user.Client.CreateEntryIdAsync(habit, "2026-03-10T07:00:00Z");
        await user.Client.DeleteAsync($"/api/v1/entries/{deletedBefore}");

        var response = await user.Client.DeleteAsync($"/api/v1/habits/{habit}");

        await response.ShouldBeAsync(204);
        await using var db = await OpenDatabaseAsync();
        var tombstone = await db.QuerySingleAsync<(int Version, DateTime? DeletedAt, DateTime UpdatedAt, long ChangeSeq)>(
            "SELECT version, deleted_at, updated_at, change_seq FROM habits WHERE id = @habit", new { habit });
        Assert.Equal(2, tombstone.Version);
        Assert.Equal(tombstone.DeletedAt, tombstone.UpdatedAt);
        var entries = (await db.QueryAsync<(Guid Id, int Version, DateTime? DeletedAt, long ChangeSeq)>(
            "SELECT id, version, deleted_at, change_seq FROM habit_entries WHERE habit_id = @habit", new { habit })).ToDictionary(e => e.Id);
        Assert.All([entries[first], entries[second]], e => Assert.Equal((2, tombstone.DeletedAt, tombstone.ChangeSeq), (e.Version, e.DeletedAt, e.ChangeSeq)));
        Assert.NotEqual(tombstone.ChangeSeq, entries[deletedBefore].ChangeSeq);
        Assert.Equal(tombstone.ChangeSeq, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task No_content_and_nothing_changed_when_deleted_again()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();
        await (await user.Client.DeleteAsync($"/api/v1/habits/{id}")).ShouldBeAsync(204);

        var again = await user.Client.DeleteAsync($"/api/v1/habits/{id}");
        var againWithOldVersion = await user.Client.DeleteAsync($"/api/v1/habits/{id}?version=1");

        await again.ShouldBeAsync(204);
        await againWithOldVersion.ShouldBeAsync(204);
        await using var db = await OpenDatabaseAsync();
        Assert.Equal((2, 2L), await db.QuerySingleAsync<(int, long)>("SELECT version, change_seq FROM habits WHERE id = @id", new { id }));
        Assert.Equal(2, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task No_content_when_the_given_version_is_the_stored_one()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.DeleteAsync($"/api/v1/habits/{id}?version=1");

        await response.ShouldBeAsync(204);
        await (await user.Client.GetAsync($"/api/v1/habits/{id}")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Conflict_with_current_and_nothing_deleted_when_the_given_version_is_stale()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();
        var updated = await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", new { version = 1, title = "Second" })).ShouldBeAsync(200);

        var response = await user.Client.DeleteAsync($"/api/v1/habits/{id}?version=1");

        var body = await response.ShouldBeProblemAsync(409, "version conflict");
        Assert.Equal(updated.ToJsonString(), body["current"]!.ToJsonString());
        await (await user.Client.GetAsync($"/api/v1/habits/{id}")).ShouldBeAsync(200);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    public async Task Bad_request_when_the_version_is_not_a_positive_integer(string version)
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.DeleteAsync($"/api/v1/habits/{id}?version={version}");

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(body["errors"]!["version"]);
    }

    [Fact]
    public async Task Not_found_and_nothing_deleted_when_the_habit_is_another_users()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var id = await alice.Client.CreateHabitIdAsync();

        var response = await bob.Client.DeleteAsync($"/api/v1/habits/{id}");

        await response.ShouldBeProblemAsync(404, "habit not found");
        await (await alice.Client.GetAsync($"/api/v1/habits/{id}")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Not_found_when_the_habit_does_not_exist()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.DeleteAsync($"/api/v1/habits/{Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().DeleteAsync($"/api/v1/habits/{Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(401);
    }
}
