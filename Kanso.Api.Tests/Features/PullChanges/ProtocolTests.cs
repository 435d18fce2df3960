using System.Text.Json.Nodes;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.PullChanges;

/// <summary>Kanso-Protocol: 2 gets skips, time off and settings; an earlier client keeps the v1.1 contract and does not mis-count.</summary>
public sealed class ProtocolTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task An_earlier_client_sees_a_skip_as_a_tombstone_and_the_entry_comes_back_when_it_is_done_again()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var entry = await user.Client.CreateEntryAsync(habit, "2026-03-08T07:00:00Z");
        var id = (string)entry["id"]!;
        var v1Cursor = (string)(await user.Client.PullPagesAsync(null, protocol2: false))[^1]["cursor"]!;

        // Another device, speaking protocol 2, marks the day skipped.
        var skipped = await user.Client.SendOkAsync(HttpMethod.Put, $"/api/v1/entries/{id}", new { kind = "skip", version = 1 });
        var v1Delta = await user.Client.PullPagesAsync(v1Cursor, protocol2: false);
        var v1Initial = await user.Client.PullPagesAsync(null, protocol2: false);
        var v2Delta = await user.Client.PullPagesAsync(v1Cursor, protocol2: true);
        var v1Get = await user.Client.SendAsync(HttpMethod.Get, $"/api/v1/entries/{id}", protocol2: false);
        var v1List = await user.Client.SendOkAsync(HttpMethod.Get, $"/api/v1/entries?habit_id={habit}&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z", protocol2: false);
        var v2List = await user.Client.SendOkAsync(HttpMethod.Get, $"/api/v1/entries?habit_id={habit}&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z");
        var v1Legacy = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/entries/sync", protocol2: false);

        Assert.Equal(("skip", null), ((string?)skipped["kind"], skipped["deleted_at"]));
        var asTombstone = Assert.Single(v1Delta.SelectMany(p => p["entries"]!.AsArray()))!;
        Assert.Equal((id, 2), ((string?)asTombstone["id"], (int)asTombstone["version"]!));
        Assert.Equal((string?)skipped["updated_at"], (string?)asTombstone["deleted_at"]);
        Assert.Empty(v1Initial.SelectMany(p => p["entries"]!.AsArray()));
        var asSkip = Assert.Single(v2Delta.SelectMany(p => p["entries"]!.AsArray()))!;
        Assert.Equal(("skip", null), ((string?)asSkip["kind"], asSkip["deleted_at"]));
        await v1Get.ShouldBeProblemAsync(404);
        Assert.Empty(v1List.AsArray());
        Assert.Single(v2List.AsArray());
        Assert.NotNull(Assert.Single(v1Legacy["changes"]!.AsArray())!["deleted_at"]);

        // Back to done: an ordinary change, so the earlier client gets the entry back, live.
        await user.Client.SendOkAsync(HttpMethod.Put, $"/api/v1/entries/{id}", new { kind = "done", version = 2 });
        var back = Assert.Single((await user.Client.PullPagesAsync((string)v1Delta[^1]["cursor"]!, protocol2: false)).SelectMany(p => p["entries"]!.AsArray()))!;

        Assert.Equal((id, 3, null), ((string?)back["id"], (int)back["version"]!, back["deleted_at"]));
        Assert.Equal(200, (int)(await user.Client.SendAsync(HttpMethod.Get, $"/api/v1/entries/{id}", protocol2: false)).StatusCode);
    }

    [Fact]
    public async Task An_earlier_client_gets_no_time_off_or_settings_in_pull_and_cannot_push_time_off()
    {
        var user = await CreateUserAsync();
        await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/time-off", new { start_date = "2026-07-01", end_date = "2026-07-02" }, status: 201);

        var v1 = (await user.Client.PullPagesAsync(null, protocol2: false))[0].AsObject();
        var v2 = (await user.Client.PullPagesAsync(null, protocol2: true))[0].AsObject();
        var push = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/sync/push", new
        {
            mutations = new object[] { new { mutation_id = "t1", op = "upsert_time_off", id = Guid.NewGuid(), data = new { start_date = "2026-07-05", end_date = "2026-07-06" } } },
        }, protocol2: false);

        Assert.False(v1.ContainsKey("time_off"));
        Assert.False(v1.ContainsKey("settings"));
        Assert.Single(v2["time_off"]!.AsArray());
        Assert.NotNull(v2["settings"]);
        Assert.Equal("rejected", (string?)push["results"]![0]!["status"]);
        Assert.NotNull(push["results"]![0]!["errors"]!["op"]);
    }

    [Fact]
    public async Task An_earlier_clients_push_answer_shows_a_skip_as_a_tombstone()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var skip = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/entries",
            new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", kind = "skip" }, status: 201);

        var v1Push = await user.Client.SendOkAsync(HttpMethod.Post, "/api/v1/sync/push", new
        {
            mutations = new object[] { new { mutation_id = "e1", op = "upsert_entry", id = skip["id"], version = 1, data = new { notes = "late" } } },
        }, protocol2: false);

        var result = v1Push["results"]![0]!;
        Assert.Equal("applied", (string?)result["status"]);
        Assert.NotNull(result["record"]!["deleted_at"]);
    }
}
