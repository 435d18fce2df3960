using Dapper;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kanso.Api.Tests.Features.TimeOff;

public sealed class TimeOffTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Time_off_is_created_read_listed_updated_under_a_version_guard_and_deleted()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var created = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/time-off",
            new { start_date = "2026-07-01", end_date = "2026-07-14", habit_ids = new[] { habit }, note = "Holiday" }, status: 201);
        var id = (string)created["id"]!;
        var retried = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/time-off", new { id, start_date = "2026-07-01", end_date = "2026-07-14" });
        var read = await user.Client.SendOkAsync(HttpMethod.Get, $"/api/v1/time-off/{id}");
        var list = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/time-off");
        var updated = await user.Client.SendOkAsync(HttpMethod.Put, $"/api/v1/time-off/{id}", new { habit_ids = (Guid[]?)null, note = (string?)null, version = 1 });
        var stale = await user.Client.SendAsync(HttpMethod.Put, $"/api/v1/time-off/{id}", new { end_date = "2026-07-20", version = 1 });

        Assert.Equal((1, "2026-07-01", "2026-07-14", "Holiday"), ((int)created["version"]!, (string?)created["start_date"], (string?)created["end_date"], (string?)created["note"]));
        Assert.Equal(habit.ToString(), (string?)created["habit_ids"]![0]);
        Assert.Equal(1, (int)retried["version"]!);
        Assert.Equal(id, (string?)read["id"]);
        Assert.Equal(id, (string?)Assert.Single(list.AsArray())!["id"]);
        Assert.Equal((2, null, null), ((int)updated["version"]!, updated["habit_ids"], updated["note"]));
        var conflict = await stale.ShouldBeProblemAsync(409, "version conflict");
        Assert.Equal(2, (int)conflict["current"]!["version"]!);

        await (await user.Client.SendAsync(HttpMethod.Delete, $"/api/v1/time-off/{id}?version=2")).ShouldBeAsync(204);
        await (await user.Client.SendAsync(HttpMethod.Delete, $"/api/v1/time-off/{id}")).ShouldBeAsync(204);
        await (await user.Client.SendAsync(HttpMethod.Get, $"/api/v1/time-off/{id}")).ShouldBeProblemAsync(404);
        var afterDelete = await user.Client.SendAsync(HttpMethod.Put, $"/api/v1/time-off/{id}", new { note = "x", version = 3 });
        Assert.NotNull((await afterDelete.ShouldBeProblemAsync(409))["current"]!["deleted_at"]);
        Assert.Empty((await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/time-off")).AsArray());
    }

    [Theory]
    [InlineData("""{"start_date":"2026-07-10","end_date":"2026-07-01"}""", "end_date")]
    [InlineData("""{"start_date":"2026-01-01","end_date":"2027-01-02"}""", "end_date")]
    [InlineData("""{"end_date":"2026-07-01"}""", "start_date")]
    [InlineData("""{"start_date":null,"end_date":"2026-07-01"}""", "start_date")]
    [InlineData("""{"start_date":"2026-07-01","end_date":"2026-07-02","habit_ids":[]}""", "habit_ids")]
    [InlineData("""{"start_date":"2026-07-01","end_date":"2026-07-02","habit_ids":["00000000-0000-0000-0000-000000000000"]}""", "habit_ids")]
    [InlineData("""{"start_date":"2026-07-01","end_date":"2026-07-02","habit_ids":"all"}""", "habit_ids")]
    [InlineData("""{"start_date":"2026-13-01","end_date":"2026-07-02"}""", "start_date")]
    public async Task Bad_time_off_is_a_400_naming_the_field(string body, string field)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsync("/api/v1/time-off", RecordApi.Json(body));

        var problem = await response.ShouldBeProblemAsync(400);
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task Old_time_off_tombstones_are_purged_and_a_cursor_from_before_them_must_resync()
    {
        var user = await CreateUserAsync();
        var cursor = (string)(await user.Client.PullPagesAsync(null, protocol2: true))[^1]["cursor"]!;
        var kept = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/time-off", new { start_date = "2026-07-01", end_date = "2026-07-02" }, status: 201);
        var gone = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/time-off", new { start_date = "2026-08-01", end_date = "2026-08-02" }, status: 201);
        await (await user.Client.SendAsync(HttpMethod.Delete, $"/api/v1/time-off/{gone["id"]}")).ShouldBeAsync(204);
        await using (var db = await OpenDatabaseAsync())
        {
            await db.ExecuteAsync("UPDATE time_off SET deleted_at = ((deleted_at AT TIME ZONE 'UTC') - interval '31 days') AT TIME ZONE 'UTC' WHERE deleted_at IS NOT NULL");
        }

        var purged = await Factory.Services.GetRequiredService<SyncPurger>().PurgeAsync(CancellationToken.None);
        var stale = await user.Client.SendAsync(HttpMethod.Get, $"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}");

        Assert.Equal(1, purged.TimeOff);
        await stale.ShouldBeProblemAsync(410, "resync required");
        Assert.Equal((string?)kept["id"], (string?)Assert.Single((await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/time-off")).AsArray())!["id"]);
    }

    [Fact]
    public async Task Another_users_time_off_is_not_found()
    {
        var owner = await CreateUserAsync();
        var other = await CreateUserAsync();
        var created = await owner.Client.SendOkAsync(HttpMethod.Post, "/api/v1/time-off", new { start_date = "2026-07-01", end_date = "2026-07-02" }, status: 201);

        await (await other.Client.SendAsync(HttpMethod.Get, $"/api/v1/time-off/{created["id"]}")).ShouldBeProblemAsync(404);
        await (await other.Client.SendAsync(HttpMethod.Put, $"/api/v1/time-off/{created["id"]}", new { note = "x", version = 1 })).ShouldBeProblemAsync(404);
        await (await other.Client.SendAsync(HttpMethod.Delete, $"/api/v1/time-off/{created["id"]}")).ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Push_writes_time_off_and_pull_brings_it_and_its_tombstone_to_another_device()
    {
        var user = await CreateUserAsync();
        var cursor = (string)(await user.Client.PullPagesAsync(null, protocol2: true))[^1]["cursor"]!;
        var id = Guid.NewGuid();

        var push = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/sync/push", new
        {
            mutations = new object[]
            {
                new { mutation_id = "m1", op = "upsert_time_off", id, data = new { start_date = "2026-08-01", end_date = "2026-08-03" } },
                new { mutation_id = "m2", op = "upsert_time_off", id, version = 1, data = new { note = "Camping" } },
                new { mutation_id = "m3", op = "upsert_time_off", id = Guid.NewGuid(), data = new { start_date = "2026-08-03", end_date = "2026-08-01" } },
            },
        });
        var pages = await user.Client.PullPagesAsync(cursor, protocol2: true, limit: 1);

        Assert.Equal(["applied", "applied", "rejected"], push["results"]!.AsArray().Select(r => (string?)r!["status"]));
        var pulled = Assert.Single(pages.SelectMany(p => p["time_off"]!.AsArray()));
        Assert.Equal((2, "Camping"), ((int)pulled!["version"]!, (string?)pulled["note"]));

        var delete = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/sync/push", new
        {
            mutations = new object[] { new { mutation_id = "m4", op = "delete_time_off", id, version = 2 } },
        });
        var tombstone = Assert.Single((await user.Client.PullPagesAsync((string)pages[^1]["cursor"]!, protocol2: true)).SelectMany(p => p["time_off"]!.AsArray()));

        Assert.Equal("applied", (string?)delete["results"]![0]!["status"]);
        Assert.NotNull(tombstone!["deleted_at"]);
    }
}
