using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.GetEntry;

public sealed class GetEntryTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Ok_with_the_entry()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var created = await user.Client.CreateEntryAsync(habit);

        var response = await user.Client.GetAsync($"/api/v1/entries/{created["id"]}");

        Assert.Equal(created.ToJsonString(), (await response.ShouldBeAsync(200)).ToJsonString());
    }

    [Fact]
    public async Task Not_found_when_the_entry_is_deleted()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var id = await user.Client.CreateEntryIdAsync(habit);
        await user.Client.DeleteAsync($"/api/v1/entries/{id}");

        var response = await user.Client.GetAsync($"/api/v1/entries/{id}");

        await response.ShouldBeProblemAsync(404, "entry not found");
    }

    [Fact]
    public async Task Not_found_when_the_entry_is_another_users()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var id = await alice.Client.CreateEntryIdAsync(await alice.Client.CreateHabitIdAsync());

        var response = await bob.Client.GetAsync($"/api/v1/entries/{id}");

        await response.ShouldBeProblemAsync(404, "entry not found");
    }

    [Fact]
    public async Task Not_found_when_the_entry_does_not_exist()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync($"/api/v1/entries/{Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(404, "entry not found");
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().GetAsync($"/api/v1/entries/{Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(401);
    }
}
