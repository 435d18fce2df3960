using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.GetHabit;

public sealed class GetHabitTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Ok_with_the_habit()
    {
        var user = await CreateUserAsync();
        var created = await user.Client.CreateHabitAsync(new { title = "Read", color = "#abc" });

        var response = await user.Client.GetAsync($"/api/v1/habits/{created["id"]}");

        Assert.Equal(created.ToJsonString(), (await response.ShouldBeAsync(200)).ToJsonString());
    }

    [Fact]
    public async Task Not_found_when_the_habit_is_deleted()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync();
        await user.Client.DeleteAsync($"/api/v1/habits/{id}");

        var response = await user.Client.GetAsync($"/api/v1/habits/{id}");

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Fact]
    public async Task Not_found_when_the_habit_is_another_users()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var id = await alice.Client.CreateHabitIdAsync();

        var response = await bob.Client.GetAsync($"/api/v1/habits/{id}");

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Fact]
    public async Task Not_found_when_the_habit_does_not_exist()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync($"/api/v1/habits/{Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Fact]
    public async Task Not_found_when_the_id_is_not_a_uuid()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync("/api/v1/habits/not-a-uuid");

        await response.ShouldBeProblemAsync(404);
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().GetAsync($"/api/v1/habits/{Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(401);
    }
}
