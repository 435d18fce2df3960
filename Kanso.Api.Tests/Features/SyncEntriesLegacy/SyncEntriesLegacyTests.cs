using System.Net.Http.Json;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Kanso.Api.Tests.Features.SyncEntriesLegacy;

public sealed class SyncEntriesLegacyTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Without_since_every_entry_comes_back_tombstones_included()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var kept = await user.Client.CreateEntryIdAsync(habit);
        var deleted = await user.Client.CreateEntryIdAsync(habit, "2026-03-09T07:00:00Z");
        await (await user.Client.DeleteAsync($"/api/v1/entries/{deleted}")).ShouldBeAsync(204);

        var body = await (await user.Client.GetAsync("/api/v1/entries/sync")).ShouldBeAsync(200);

        var changes = body["changes"]!.AsArray();
        Assert.Equal([kept, deleted], changes.Select(c => Guid.Parse((string)c!["id"]!)));
        Assert.Null(changes[0]!["deleted_at"]);
        Assert.NotNull(changes[1]!["deleted_at"]);
        Assert.NotNull(body["timestamp"]);
    }

    [Fact]
    public async Task With_the_returned_timestamp_only_later_changes_come_back_deleted_habits_entries_as_tombstones()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var other = await user.Client.CreateHabitIdAsync();
        var untouched = await user.Client.CreateEntryIdAsync(other);
        var edited = await user.Client.CreateEntryIdAsync(other, "2026-03-09T07:00:00Z");
        var cascaded = await user.Client.CreateEntryIdAsync(habit);
        var since = (string)(await (await user.Client.GetAsync("/api/v1/entries/sync")).ShouldBeAsync(200))["timestamp"]!;
        await (await user.Client.PutAsJsonAsync($"/api/v1/entries/{edited}", new { version = 1, value = 3 })).ShouldBeAsync(200);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);

        var body = await (await user.Client.GetAsync($"/api/v1/entries/sync?since={Uri.EscapeDataString(since)}")).ShouldBeAsync(200);

        var changes = body["changes"]!.AsArray().ToDictionary(c => Guid.Parse((string)c!["id"]!));
        Assert.Equal(new[] { edited, cascaded }.Order(), changes.Keys.Order());
        Assert.DoesNotContain(untouched, changes.Keys);
        Assert.Equal(3, (double)changes[edited]!["value"]!);
        Assert.NotNull(changes[cascaded]!["deleted_at"]);
    }

    [Theory]
    [InlineData("2026-03-08")]
    [InlineData("2026-03-08T07:00:00")]
    [InlineData("now")]
    public async Task Bad_request_when_since_is_not_an_instant_with_an_offset(string since)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync($"/api/v1/entries/sync?since={Uri.EscapeDataString(since)}");

        var body = await response.ShouldBeProblemAsync(400);
        Assert.NotNull(body["errors"]!["since"]);
    }

    [Fact]
    public async Task Gone_resync_required_when_an_entry_tombstone_after_since_was_purged()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var entry = await user.Client.CreateEntryIdAsync(habit);
        var since = (string)(await (await user.Client.GetAsync("/api/v1/entries/sync")).ShouldBeAsync(200))["timestamp"]!;
        await (await user.Client.DeleteAsync($"/api/v1/entries/{entry}")).ShouldBeAsync(204);
        Factory.Clock.Advance(Duration.FromDays(31));
        var purged = await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);

        var response = await user.Client.GetAsync($"/api/v1/entries/sync?since={Uri.EscapeDataString(since)}");

        Assert.Equal((1, 0), (purged.Entries, purged.Habits));
        await response.ShouldBeProblemAsync(410, "resync required");
        await (await user.Client.GetAsync("/api/v1/entries/sync")).ShouldBeAsync(200);
    }
}
