using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Kanso.Api.Tests.Features.PullChanges;

public sealed class PullChangesTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Initial_sync_with_a_small_limit_sees_every_live_record_exactly_once_and_no_tombstones()
    {
        var user = await CreateUserAsync();
        var (habits, entries) = await SeedAsync(user.Client, habitCount: 4, entriesPerHabit: 3);
        await (await user.Client.DeleteAsync($"/api/v1/entries/{entries[0]}")).ShouldBeAsync(204);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habits[3]}")).ShouldBeAsync(204);
        var copy = new LocalCopy();

        var pages = await user.Client.PullAllAsync(copy, limit: 2);

        var seenHabits = pages.SelectMany(p => p["habits"]!.AsArray()).Select(h => Guid.Parse((string)h!["id"]!)).ToList();
        var seenEntries = pages.SelectMany(p => p["entries"]!.AsArray()).Select(e => Guid.Parse((string)e!["id"]!)).ToList();
        Assert.Equal(habits.Take(3).Order(), seenHabits.Order());
        Assert.Equal(entries.Skip(1).Take(8).Order(), seenEntries.Order());
        Assert.All(pages.SkipLast(1), p => Assert.Equal(2, p["habits"]!.AsArray().Count + p["entries"]!.AsArray().Count));
        Assert.All(pages.SkipLast(1), p => Assert.True((bool)p["has_more"]!));
        Assert.All(copy.Habits.Values.Concat(copy.Entries.Values), r => Assert.Null(r.DeletedAt));
    }

    [Fact]
    public async Task After_a_cursor_updates_and_deletes_come_back_as_exactly_those_records_deletions_as_tombstones()
    {
        var user = await CreateUserAsync();
        var (habits, entries) = await SeedAsync(user.Client, habitCount: 3, entriesPerHabit: 2);
        var copy = new LocalCopy();
        await user.Client.PullAllAsync(copy);
        await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{habits[0]}", new { version = 1, title = "Renamed" })).ShouldBeAsync(200);
        await (await user.Client.PutAsJsonAsync($"/api/v1/entries/{entries[2]}", new { version = 1, value = 5 })).ShouldBeAsync(200);
        await (await user.Client.DeleteAsync($"/api/v1/entries/{entries[3]}")).ShouldBeAsync(204);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habits[2]}")).ShouldBeAsync(204);
        var created = await user.Client.CreateEntryIdAsync(habits[1], "2026-03-09T07:00:00Z");

        var pages = await user.Client.PullAllAsync(copy);

        var page = Assert.Single(pages);
        Assert.False((bool)page["has_more"]!);
        var pulledHabits = page["habits"]!.AsArray().ToDictionary(h => Guid.Parse((string)h!["id"]!));
        var pulledEntries = page["entries"]!.AsArray().ToDictionary(e => Guid.Parse((string)e!["id"]!));
        Assert.Equal(new[] { habits[0], habits[2] }.Order(), pulledHabits.Keys.Order());
        Assert.Equal(new[] { entries[2], entries[3], entries[4], entries[5], created }.Order(), pulledEntries.Keys.Order());
        Assert.Equal("Renamed", (string?)pulledHabits[habits[0]]!["title"]);
        Assert.Null(pulledHabits[habits[0]]!["deleted_at"]);
        Assert.NotNull(pulledHabits[habits[2]]!["deleted_at"]);
        Assert.Equal(5, (double)pulledEntries[entries[2]]!["value"]!);
        Assert.All([entries[3], entries[4], entries[5]], id => Assert.NotNull(pulledEntries[id]!["deleted_at"]));
        Assert.Null(pulledEntries[created]!["deleted_at"]);
    }

    [Fact]
    public async Task A_delete_whose_tombstones_share_one_change_number_is_paged_across_pages_exactly_once()
    {
        var user = await CreateUserAsync();
        var (habits, entries) = await SeedAsync(user.Client, habitCount: 2, entriesPerHabit: 7);
        var copy = new LocalCopy();
        await user.Client.PullAllAsync(copy);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habits[0]}")).ShouldBeAsync(204);
        await user.Client.CreateEntryIdAsync(habits[1], "2026-03-20T07:00:00Z");

        var pages = await user.Client.PullAllAsync(copy, limit: 3);

        var ids = pages.SelectMany(p => p["habits"]!.AsArray().Concat(p["entries"]!.AsArray())).Select(r => Guid.Parse((string)r!["id"]!)).ToList();
        Assert.Equal(9, ids.Count);
        Assert.Equal(9, ids.Distinct().Count());
        Assert.Equal(3, pages.Count);
        Assert.All(entries.Take(7), id => Assert.NotNull(copy.Entries[id].DeletedAt));
        Assert.NotNull(copy.Habits[habits[0]].DeletedAt);
    }

    [Fact]
    public async Task Pulled_records_are_exactly_what_the_record_routes_return()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitAsync(new
        {
            title = "Stretch",
            description = "Morning",
            color = "#4A90E2",
            icon = "🧘",
            sort_order = 3,
            type = "numeric",
            target_value = 2.5,
            unit = "min",
            frequency_type = "specific_days",
            weekdays = new[] { 5, 1, 3 },
            reminder_time = "07:30",
            start_date = "2026-01-01T08:00:00.123456+01:00",
            end_date = "2026-12-31T00:00:00Z",
            archived_at = "2026-06-01T00:00:00Z",
        });
        var plain = await user.Client.CreateHabitAsync(new { title = "Walk", frequency_type = "weekly", times_per_week = 3 });
        var entry = await user.Client.CreateEntryAsync(Guid.Parse((string)habit["id"]!), "2026-03-08T07:00:00.654321Z", 1.5);

        var page = await user.Client.PullAsync(null);

        Assert.Equal(new[] { habit.ToJsonString(), plain.ToJsonString() }, page["habits"]!.AsArray().Select(h => h!.ToJsonString()));
        Assert.Equal(entry.ToJsonString(), Assert.Single(page["entries"]!.AsArray())!.ToJsonString());
    }

    [Fact]
    public async Task Nothing_new_is_an_empty_page_whose_cursor_still_works()
    {
        var user = await CreateUserAsync();
        var empty = await user.Client.PullAsync(null);
        var habit = await user.Client.CreateHabitIdAsync();

        var again = await user.Client.PullAsync((string)empty["cursor"]!);
        var idle = await user.Client.PullAsync((string)again["cursor"]!);

        Assert.Empty(empty["habits"]!.AsArray());
        Assert.False((bool)empty["has_more"]!);
        Assert.Equal(habit, Guid.Parse((string)Assert.Single(again["habits"]!.AsArray())!["id"]!));
        Assert.Empty(idle["habits"]!.AsArray());
        Assert.Empty(idle["entries"]!.AsArray());
        Assert.False((bool)idle["has_more"]!);
        Assert.Equal((string)again["cursor"]!, (string)idle["cursor"]!);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("5000")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("2.5")]
    public async Task Bad_request_when_the_limit_is_out_of_range_or_not_a_number(string limit)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync($"/api/v1/sync/pull?limit={limit}");

        var body = await response.ShouldBeProblemAsync(400);
        Assert.NotNull(body["errors"]!["limit"]);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1000")]
    public async Task Ok_at_both_ends_of_the_limit_range(string limit)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync($"/api/v1/sync/pull?limit={limit}");

        await response.ShouldBeAsync(200);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("AQAAAAAAAAAAAQ")]
    [InlineData("%00%01")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Bad_request_invalid_cursor_when_the_cursor_is_garbage(string cursor)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync($"/api/v1/sync/pull?cursor={cursor}");

        await response.ShouldBeProblemAsync(400, "invalid cursor");
    }

    [Fact]
    public async Task Bad_request_invalid_cursor_when_the_cursor_is_another_users_or_tampered()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        await alice.Client.CreateHabitIdAsync();
        var cursor = (string)(await alice.Client.PullAsync(null))["cursor"]!;
        var tampered = cursor[..^2] + (cursor[^2] == 'A' ? 'B' : 'A') + cursor[^1];

        var foreign = await bob.Client.GetAsync($"/api/v1/sync/pull?cursor={cursor}");
        var changed = await alice.Client.GetAsync($"/api/v1/sync/pull?cursor={tampered}");

        await foreign.ShouldBeProblemAsync(400, "invalid cursor");
        await changed.ShouldBeProblemAsync(400, "invalid cursor");
        await (await alice.Client.GetAsync($"/api/v1/sync/pull?cursor={cursor}")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Gone_resync_required_when_the_cursor_is_behind_the_purge_horizon()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var before = (string)(await user.Client.PullAsync(null))["cursor"]!;
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);
        var after = (string)(await user.Client.PullAsync(before))["cursor"]!;
        Factory.Clock.Advance(Duration.FromDays(31));

        var purged = await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);

        Assert.Equal(1, purged.Habits);
        await (await user.Client.GetAsync($"/api/v1/sync/pull?cursor={before}")).ShouldBeProblemAsync(410, "resync required");
        await (await user.Client.GetAsync($"/api/v1/sync/pull?cursor={after}")).ShouldBeAsync(200);
        await (await user.Client.GetAsync("/api/v1/sync/pull")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Ok_when_only_tombstones_younger_than_the_retention_exist()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var before = (string)(await user.Client.PullAsync(null))["cursor"]!;
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);
        Factory.Clock.Advance(Duration.FromDays(29));

        var purged = await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);

        Assert.Equal(0, purged.Total);
        var page = await user.Client.PullAsync(before);
        Assert.NotNull(Assert.Single(page["habits"]!.AsArray())!["deleted_at"]);
    }

    [Fact]
    public async Task An_initial_sync_is_never_gone_even_when_old_tombstones_were_purged_among_its_records()
    {
        var user = await CreateUserAsync();
        var (habits, _) = await SeedAsync(user.Client, habitCount: 2, entriesPerHabit: 2);
        var doomed = await user.Client.CreateHabitIdAsync();
        await (await user.Client.DeleteAsync($"/api/v1/habits/{doomed}")).ShouldBeAsync(204);
        var (more, _) = await SeedAsync(user.Client, habitCount: 2, entriesPerHabit: 2);
        Factory.Clock.Advance(Duration.FromDays(31));
        await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);
        var copy = new LocalCopy();

        await user.Client.PullAllAsync(copy, limit: 1);

        Assert.Equal(habits.Concat(more).Order(), copy.Habits.Keys.Order());
        Assert.Equal(8, copy.Entries.Count);
    }

    [Fact]
    public async Task Server_changes_without_a_version_bump_are_pulled_too()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var copy = new LocalCopy();
        await user.Client.PullAllAsync(copy);
        await using (var db = await OpenDatabaseAsync())
        {
            // What the streak worker does: a new change number, no new version.
            await db.ExecuteAsync("""
                WITH seq AS (UPDATE users SET change_seq = change_seq + 1 WHERE id = @userId RETURNING change_seq)
                UPDATE habits SET current_streak = 4, longest_streak = 9, change_seq = seq.change_seq FROM seq WHERE user_id = @userId AND id = @habit
                """, new { userId = user.Id, habit });
        }

        var page = Assert.Single(await user.Client.PullAllAsync(copy));

        var pulled = Assert.Single(page["habits"]!.AsArray())!;
        Assert.Equal((4, 9, 1), ((int)pulled["current_streak"]!, (int)pulled["longest_streak"]!, (int)pulled["version"]!));
    }

    [Fact]
    public async Task The_pull_is_documented_with_the_loop_the_cursor_and_the_410()
    {
        var document = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        var pull = document["paths"]!["/api/v1/sync/pull"]!["get"]!;
        var text = (string)pull["description"]!;
        Assert.Contains("has_more", text);
        Assert.Contains("resync required", text);
        Assert.NotNull(pull["responses"]!["410"]);
        Assert.NotNull(document["paths"]!["/api/v1/sync/push"]!["post"]!["description"]);
    }

    /// <summary>Habits with entries on distinct days, created in order; ids in creation order.</summary>
    internal static async Task<(List<Guid> Habits, List<Guid> Entries)> SeedAsync(HttpClient client, int habitCount, int entriesPerHabit)
    {
        var habits = new List<Guid>();
        var entries = new List<Guid>();
        for (var h = 0; h < habitCount; h++)
        {
            var habit = await client.CreateHabitIdAsync(new { title = $"Habit {h}" });
            habits.Add(habit);
            for (var e = 0; e < entriesPerHabit; e++)
            {
                entries.Add(await client.CreateEntryIdAsync(habit, $"2026-03-{e + 1:00}T07:00:00Z"));
            }
        }

        return (habits, entries);
    }
}
