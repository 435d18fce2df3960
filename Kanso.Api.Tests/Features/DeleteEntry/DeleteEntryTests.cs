using System.Net.Http.Json;
using Dapper;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.DeleteEntry;

public sealed class DeleteEntryTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task No_content_with_a_tombstone_and_the_habit_streak_recomputed()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var id = await user.Client.CreateEntryIdAsync(habit, Kanso.Api.Infrastructure.Json.WireFormat.Format(Factory.Clock.GetCurrentInstant()));
        await using var db = await OpenDatabaseAsync();
        await TestRows.EventuallyAsync(async () => await LongestStreakAsync(db, habit) == 1, "today's entry counts in the streak");
        var before = await db.QuerySingleAsync<long>("SELECT change_seq FROM habit_entries WHERE id = @id", new { id });

        var response = await user.Client.DeleteAsync($"/api/v1/entries/{id}");

        await response.ShouldBeAsync(204);
        var tombstone = await db.QuerySingleAsync<(int Version, DateTime? DeletedAt, DateTime UpdatedAt, long ChangeSeq)>(
            "SELECT version, deleted_at, updated_at, change_seq FROM habit_entries WHERE id = @id", new { id });
        Assert.Equal((2, tombstone.UpdatedAt), (tombstone.Version, tombstone.DeletedAt));
        Assert.True(tombstone.ChangeSeq > before);
        await TestRows.EventuallyAsync(async () => await LongestStreakAsync(db, habit) == 0, "the deleted entry no longer counts");
    }

    private static Task<int> LongestStreakAsync(Npgsql.NpgsqlConnection db, Guid habit) =>
        db.ExecuteScalarAsync<int>("SELECT longest_streak FROM habits WHERE id = @habit", new { habit });

    [Fact]
    public async Task No_content_and_nothing_changed_when_deleted_again()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateEntryIdAsync(await user.Client.CreateHabitIdAsync());
        await (await user.Client.DeleteAsync($"/api/v1/entries/{id}")).ShouldBeAsync(204);

        var again = await user.Client.DeleteAsync($"/api/v1/entries/{id}");
        var againWithOldVersion = await user.Client.DeleteAsync($"/api/v1/entries/{id}?version=1");

        await again.ShouldBeAsync(204);
        await againWithOldVersion.ShouldBeAsync(204);
        await using var db = await OpenDatabaseAsync();
        Assert.Equal((2, 3L), await db.QuerySingleAsync<(int, long)>("SELECT version, change_seq FROM habit_entries WHERE id = @id", new { id }));
        Assert.Equal(3, await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task No_content_when_the_given_version_is_the_stored_one()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateEntryIdAsync(await user.Client.CreateHabitIdAsync());

        var response = await user.Client.DeleteAsync($"/api/v1/entries/{id}?version=1");

        await response.ShouldBeAsync(204);
    }

    [Fact]
    public async Task Conflict_with_current_and_nothing_deleted_when_the_given_version_is_stale()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateEntryIdAsync(await user.Client.CreateHabitIdAsync());
        var updated = await (await user.Client.PutAsJsonAsync($"/api/v1/entries/{id}", new { version = 1, value = 2 })).ShouldBeAsync(200);

        var response = await user.Client.DeleteAsync($"/api/v1/entries/{id}?version=1");

        var body = await response.ShouldBeProblemAsync(409, "version conflict");
        Assert.Equal(updated.ToJsonString(), body["current"]!.ToJsonString());
        await (await user.Client.GetAsync($"/api/v1/entries/{id}")).ShouldBeAsync(200);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("0")]
    public async Task Bad_request_when_the_version_is_not_a_positive_integer(string version)
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateEntryIdAsync(await user.Client.CreateHabitIdAsync());

        var response = await user.Client.DeleteAsync($"/api/v1/entries/{id}?version={version}");

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(body["errors"]!["version"]);
    }

    [Fact]
    public async Task Not_found_and_nothing_deleted_when_the_entry_is_another_users()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var id = await alice.Client.CreateEntryIdAsync(await alice.Client.CreateHabitIdAsync());

        var response = await bob.Client.DeleteAsync($"/api/v1/entries/{id}");

        await response.ShouldBeProblemAsync(404, "entry not found");
        await (await alice.Client.GetAsync($"/api/v1/entries/{id}")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Not_found_when_the_entry_does_not_exist()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.DeleteAsync($"/api/v1/entries/{Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(404, "entry not found");
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().DeleteAsync($"/api/v1/entries/{Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(401);
    }
}
