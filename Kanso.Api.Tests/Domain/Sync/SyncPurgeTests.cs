using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Kanso.Api.Tests.Domain.Sync;

public sealed class SyncPurgeTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Only_tombstones_older_than_the_retention_go_and_the_horizon_records_how_far()
    {
        var user = await CreateUserAsync();
        var other = await CreateUserAsync();
        var live = await user.Client.CreateHabitIdAsync();
        var liveEntry = await user.Client.CreateEntryIdAsync(live);
        var oldEntry = await user.Client.CreateEntryIdAsync(live, "2026-03-09T07:00:00Z");
        var oldHabit = await user.Client.CreateHabitIdAsync();
        var cascaded = await user.Client.CreateEntryIdAsync(oldHabit);
        await (await user.Client.DeleteAsync($"/api/v1/entries/{oldEntry}")).ShouldBeAsync(204);
        await (await user.Client.DeleteAsync($"/api/v1/habits/{oldHabit}")).ShouldBeAsync(204);
        var othersHabit = await other.Client.CreateHabitIdAsync();
        await (await other.Client.DeleteAsync($"/api/v1/habits/{othersHabit}")).ShouldBeAsync(204);
        await using var db = await OpenDatabaseAsync();

        // Deleted 31 days ago (the database stamps deleted_at with its own clock). timestamptz - interval
        // is STABLE (it depends on the session's zone), which Citus refuses in an UPDATE; in UTC it is not.
        const string MonthEarlier = "((deleted_at AT TIME ZONE 'UTC') - interval '31 days') AT TIME ZONE 'UTC'";
        const string MonthEarlierUpdate = "((updated_at AT TIME ZONE 'UTC') - interval '31 days') AT TIME ZONE 'UTC'";
        await db.ExecuteAsync($"UPDATE habits SET deleted_at = {MonthEarlier}, updated_at = {MonthEarlierUpdate} WHERE deleted_at IS NOT NULL");
        await db.ExecuteAsync($"UPDATE habit_entries SET deleted_at = {MonthEarlier}, updated_at = {MonthEarlierUpdate} WHERE deleted_at IS NOT NULL");
        var oldHabitSeq = await db.ExecuteScalarAsync<long>("SELECT change_seq FROM habits WHERE id = @oldHabit", new { oldHabit });
        var oldHabitUpdatedAt = await db.ExecuteScalarAsync<DateTime>("SELECT updated_at FROM habits WHERE id = @oldHabit", new { oldHabit });
        var youngEntry = await user.Client.CreateEntryIdAsync(live, "2026-03-10T07:00:00Z");
        await (await user.Client.DeleteAsync($"/api/v1/entries/{youngEntry}")).ShouldBeAsync(204);

        var purged = await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);

        Assert.Equal((2, 2), (purged.Entries, purged.Habits));
        var entries = (await db.QueryAsync<Guid>("SELECT id FROM habit_entries WHERE user_id = @id", new { id = user.Id })).Order();
        Assert.Equal(new[] { liveEntry, youngEntry }.Order(), entries);
        Assert.Equal([live], await db.QueryAsync<Guid>("SELECT id FROM habits WHERE user_id = @id", new { id = user.Id }));
        Assert.DoesNotContain(cascaded, entries);
        var horizon = await db.QuerySingleAsync<(long PurgedSeq, DateTime PurgedUpdatedAt)>("SELECT purged_seq, purged_updated_at FROM users WHERE id = @id", new { id = user.Id });
        Assert.Equal((oldHabitSeq, oldHabitUpdatedAt), horizon);
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habits WHERE user_id = @id", new { id = other.Id }));
        Assert.Equal(0L, await db.ExecuteScalarAsync<long>("SELECT purged_seq FROM users WHERE id = @id", new { id = Guid.NewGuid() }));
    }

    [Fact]
    public async Task Small_batches_purge_everything_old_across_users()
    {
        await using var host = Fixture.CreateFactory(new Dictionary<string, string?> { ["Sync:PurgeBatchSize"] = "2" });
        host.Clock.Reset(Factory.Clock.GetCurrentInstant());
        var users = new List<TestUser>();
        for (var u = 0; u < 3; u++)
        {
            var user = await CreateUserAsync();
            users.Add(user);
            for (var h = 0; h < 2; h++)
            {
                var habit = await user.Client.CreateHabitIdAsync();
                for (var e = 0; e < 3; e++)
                {
                    await user.Client.CreateEntryIdAsync(habit, $"2026-03-{e + 1:00}T07:00:00Z");
                }

                await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);
            }
        }

        host.Clock.Advance(Duration.FromDays(31));

        var purged = await host.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);

        Assert.Equal((18, 6), (purged.Entries, purged.Habits));
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<int>("SELECT (SELECT count(*) FROM habits) + (SELECT count(*) FROM habit_entries)"));
        Assert.All(await db.QueryAsync<(long ChangeSeq, long PurgedSeq)>("SELECT change_seq, purged_seq FROM users"), u => Assert.Equal(u.ChangeSeq, u.PurgedSeq));
    }

    [Fact]
    public async Task A_purge_with_nothing_old_changes_nothing()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        await (await user.Client.DeleteAsync($"/api/v1/habits/{habit}")).ShouldBeAsync(204);
        await using var db = await OpenDatabaseAsync();
        var before = await SyncApi.SnapshotAsync(db, user.Id);

        var purged = await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);

        Assert.Equal(0, purged.Total);
        Assert.Equal(before, await SyncApi.SnapshotAsync(db, user.Id));
    }
}
