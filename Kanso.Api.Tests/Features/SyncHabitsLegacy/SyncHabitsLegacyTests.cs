using System.Net.Http.Json;
using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Kanso.Api.Tests.Features.SyncHabitsLegacy;

public sealed class SyncHabitsLegacyTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Without_last_sync_every_habit_comes_back_tombstones_included_oldest_change_first()
    {
        var user = await CreateUserAsync();
        var first = await user.Client.CreateHabitIdAsync(new { title = "First" });
        var second = await user.Client.CreateHabitIdAsync(new { title = "Second" });
        await (await user.Client.DeleteAsync($"/api/v1/habits/{first}")).ShouldBeAsync(204);
        var other = await CreateUserAsync();
        await other.Client.CreateHabitIdAsync();

        var body = await (await user.Client.GetAsync("/api/v1/habits/sync")).ShouldBeAsync(200);

        var changes = body["changes"]!.AsArray();
        Assert.Equal([second, first], changes.Select(c => Guid.Parse((string)c!["id"]!)));
        Assert.NotNull(changes[1]!["deleted_at"]);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$", (string)body["timestamp"]!);
    }

    [Fact]
    public async Task With_the_returned_timestamp_only_later_changes_come_back()
    {
        var user = await CreateUserAsync();
        var kept = await user.Client.CreateHabitIdAsync(new { title = "Kept" });
        var edited = await user.Client.CreateHabitIdAsync(new { title = "Edited" });
        var deleted = await user.Client.CreateHabitIdAsync(new { title = "Deleted" });
        var timestamp = (string)(await (await user.Client.GetAsync("/api/v1/habits/sync")).ShouldBeAsync(200))["timestamp"]!;
        await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{edited}", new { version = 1, title = "Edited again" })).ShouldBeAsync(200);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{deleted}")).ShouldBeAsync(204);
        var created = await user.Client.CreateHabitIdAsync(new { title = "Created" });

        var body = await (await user.Client.GetAsync($"/api/v1/habits/sync?last_sync={Uri.EscapeDataString(timestamp)}")).ShouldBeAsync(200);

        var changes = body["changes"]!.AsArray();
        Assert.Equal([edited, deleted, created], changes.Select(c => Guid.Parse((string)c!["id"]!)));
        Assert.DoesNotContain(kept, changes.Select(c => Guid.Parse((string)c!["id"]!)));
        Assert.True(string.CompareOrdinal((string)body["timestamp"]!, (string)changes[2]!["updated_at"]!) >= 0);
    }

    [Fact]
    public async Task A_change_exactly_at_last_sync_is_sent_again()
    {
        var user = await CreateUserAsync();
        var before = await user.Client.CreateHabitIdAsync(new { title = "Before" });
        var boundary = await user.Client.CreateHabitAsync(new { title = "Boundary" });

        var body = await (await user.Client.GetAsync($"/api/v1/habits/sync?last_sync={Uri.EscapeDataString((string)boundary["updated_at"]!)}")).ShouldBeAsync(200);

        var id = Guid.Parse((string)Assert.Single(body["changes"]!.AsArray())!["id"]!);
        Assert.Equal(Guid.Parse((string)boundary["id"]!), id);
        Assert.NotEqual(before, id);
    }

    [Fact]
    public async Task Last_sync_accepts_any_offset()
    {
        var user = await CreateUserAsync();
        await user.Client.CreateHabitIdAsync();

        var body = await (await user.Client.GetAsync($"/api/v1/habits/sync?last_sync={Uri.EscapeDataString("2000-01-01T09:00:00+09:00")}")).ShouldBeAsync(200);

        Assert.Single(body["changes"]!.AsArray());
    }

    [Theory]
    [InlineData("2026-03-08T07:00:00")]
    [InlineData("yesterday")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("1700000000")]
    public async Task Bad_request_when_last_sync_is_not_an_instant_with_an_offset(string lastSync)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync($"/api/v1/habits/sync?last_sync={Uri.EscapeDataString(lastSync)}");

        var body = await response.ShouldBeProblemAsync(400);
        Assert.NotNull(body["errors"]!["last_sync"]);
    }

    [Fact]
    public async Task Gone_resync_required_when_a_tombstone_after_last_sync_was_purged()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var before = (string)(await (await user.Client.GetAsync("/api/v1/habits/sync")).ShouldBeAsync(200))["timestamp"]!;
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);
        var after = (string)(await (await user.Client.GetAsync($"/api/v1/habits/sync?last_sync={Uri.EscapeDataString(before)}")).ShouldBeAsync(200))["timestamp"]!;
        Factory.Clock.Advance(Duration.FromDays(31));
        await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);

        var stale = await user.Client.GetAsync($"/api/v1/habits/sync?last_sync={Uri.EscapeDataString(before)}");
        var current = await user.Client.GetAsync($"/api/v1/habits/sync?last_sync={Uri.EscapeDataString(after)}");

        await stale.ShouldBeProblemAsync(410, "resync required");
        Assert.Empty((await current.ShouldBeAsync(200))["changes"]!.AsArray());
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habits WHERE user_id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task Sync_is_not_taken_for_a_habit_id()
    {
        var user = await CreateUserAsync();

        var sync = await user.Client.GetAsync("/api/v1/habits/sync");
        var notAnId = await user.Client.GetAsync("/api/v1/habits/not-an-id");

        var body = await sync.ShouldBeAsync(200);
        Assert.NotNull(body["changes"]);
        Assert.Equal(404, (int)notAnId.StatusCode);
    }
}
