using System.Text.Json.Nodes;
using Kanso.Api.Tests.Infrastructure;
using static Kanso.Api.Tests.Infrastructure.TestRows;
using Microsoft.Extensions.DependencyInjection;

namespace Kanso.Api.Tests.Features.PullChanges;

public sealed class LongPollTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task A_held_pull_answers_with_the_write_that_commits_while_it_waits()
    {
        var user = await CreateUserAsync();
        var cursor = (string)(await user.Client.PullAsync(null))["cursor"]!;

        var held = user.Client.GetAsync($"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}&wait=30");

        // The pull is waiting once it has read an empty page; then another device writes.
        await EventuallyAsync(() => Task.FromResult(Factory.Services.GetRequiredService<Kanso.Api.Domain.Sync.ChangeHintHub>().CountOf(user.Id) == 1), "the pull is held");
        var habit = await user.Client.CreateHabitIdAsync();
        var page = await (await held).ShouldBeAsync(200);

        // Without the wake-up the held pull would have answered its first, empty page after 30 s.
        Assert.Equal(habit.ToString(), (string?)Assert.Single(page["habits"]!.AsArray())!["id"]);
        Assert.False((bool)page["has_more"]!);
    }

    [Fact]
    public async Task A_held_pull_without_a_write_answers_an_empty_page_at_the_same_position_after_the_wait()
    {
        var user = await CreateUserAsync();
        await user.Client.CreateHabitIdAsync();
        var cursor = (string)(await user.Client.PullAsync(null))["cursor"]!;
        var plain = await user.Client.PullAsync(cursor);

        var response = await user.Client.GetAsync($"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}&wait=1");
        var page = await response.ShouldBeAsync(200);

        Assert.Empty(page["habits"]!.AsArray());
        Assert.Empty(page["entries"]!.AsArray());
        Assert.False((bool)page["has_more"]!);
        Assert.Equal((string?)plain["cursor"], (string?)page["cursor"]);
        Assert.Null(response.Headers.ETag);
    }

    [Fact]
    public async Task Wait_is_ignored_without_a_cursor_and_a_pull_with_changes_is_not_held()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var initial = await (await user.Client.GetAsync("/api/v1/sync/pull?wait=30")).ShouldBeAsync(200);
        Assert.Single(initial["habits"]!.AsArray());

        var cursor = (string)initial["cursor"]!;
        await (await user.Client.PutAsync($"/api/v1/habits/{habit}", RecordApi.Json("""{"title":"Renamed","version":1}"""))).ShouldBeAsync(200);
        var delta = await (await user.Client.GetAsync($"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}&wait=30")).ShouldBeAsync(200);
        Assert.Equal("Renamed", (string?)Assert.Single(delta["habits"]!.AsArray())!["title"]);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("31")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("soon")]
    public async Task A_bad_wait_is_400(string wait)
    {
        var user = await CreateUserAsync();
        var cursor = (string)(await user.Client.PullAsync(null))["cursor"]!;

        var response = await user.Client.GetAsync($"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}&wait={Uri.EscapeDataString(wait)}");

        var problem = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(problem["errors"]!["wait"]);
    }

    [Fact]
    public async Task Held_pulls_and_open_streams_hold_no_database_connection()
    {
        // A pool of two: if waiting held a connection, the plain request after them could not get one (503).
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = Fixture.ConnectionString + ";Maximum Pool Size=2;Timeout=3" };
        await using var host = Fixture.CreateFactory(settings);
        var user = await CreateUserAsync();
        var client = ClientFor(host, user.Id, user.Email);
        var cursor = (string)(await client.PullAsync(null))["cursor"]!;
        var streams = new List<EventStream>();
        try
        {
            var held = Enumerable.Range(0, 4).Select(_ => client.GetAsync($"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}&wait=30")).ToList();
            for (var i = 0; i < 4; i++)
            {
                streams.Add(await EventStream.OpenReadyAsync(client));
            }

            await EventuallyAsync(() => Task.FromResult(host.Services.GetRequiredService<Kanso.Api.Domain.Sync.ChangeHintHub>().CountOf(user.Id) == 8), "the pulls are held");

            var habits = await (await client.GetAsync("/api/v1/habits")).ShouldBeAsync(200);
            Assert.Empty(habits.AsArray());

            // The write wakes them all; each answers its page.
            await client.CreateHabitIdAsync();
            foreach (var response in await Task.WhenAll(held))
            {
                Assert.Single((await response.ShouldBeAsync(200))["habits"]!.AsArray());
            }
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }
}
