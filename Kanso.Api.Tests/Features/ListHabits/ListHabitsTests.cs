using System.Net.Http.Json;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.ListHabits;

public sealed class ListHabitsTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Ok_with_live_habits_archived_included_by_sort_order_then_created_at()
    {
        var user = await CreateUserAsync();
        await user.Client.CreateHabitAsync(new { title = "B", sort_order = 1 });
        await user.Client.CreateHabitAsync(new { title = "C", sort_order = 1, archived_at = "2026-03-01T00:00:00Z" });
        await user.Client.CreateHabitAsync(new { title = "A", sort_order = 0 });
        var deleted = await user.Client.CreateHabitIdAsync(new { title = "Deleted", sort_order = -1 });
        await user.Client.DeleteAsync($"/api/v1/habits/{deleted}");

        var response = await user.Client.GetAsync("/api/v1/habits");

        var body = (await response.ShouldBeAsync(200)).AsArray();
        Assert.Equal(["A", "B", "C"], body.Select(h => (string?)h!["title"]));
        Assert.Equal(24, body[0]!.AsObject().Count);
    }

    [Fact]
    public async Task Ok_with_an_empty_array_when_the_user_has_no_habits()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync("/api/v1/habits");

        Assert.Equal("[]", (await response.ShouldBeAsync(200)).ToJsonString());
    }

    [Fact]
    public async Task Ok_with_only_the_callers_habits()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        await alice.Client.CreateHabitAsync(new { title = "Alice's" });
        await bob.Client.CreateHabitAsync(new { title = "Bob's" });

        var response = await alice.Client.GetAsync("/api/v1/habits");

        Assert.Equal(["Alice's"], (await response.ShouldBeAsync(200)).AsArray().Select(h => (string?)h!["title"]));
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().GetAsync("/api/v1/habits");

        await response.ShouldBeProblemAsync(401);
    }
}
