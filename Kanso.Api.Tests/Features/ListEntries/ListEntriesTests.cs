using Kanso.Api.Tests.Infrastructure;
using NodaTime;

namespace Kanso.Api.Tests.Features.ListEntries;

public sealed class ListEntriesTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Ok_with_the_live_entries_in_the_range_by_completion_date_ends_included()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var other = await user.Client.CreateHabitIdAsync(new { title = "Other" });
        await user.Client.CreateEntryAsync(habit, "2026-03-05T00:00:00Z", value: 5);
        await user.Client.CreateEntryAsync(habit, "2026-03-01T00:00:00Z", value: 1);
        await user.Client.CreateEntryAsync(habit, "2026-03-03T12:00:00Z", value: 3);
        await user.Client.CreateEntryAsync(habit, "2026-02-28T23:59:59Z", value: 99);
        await user.Client.CreateEntryAsync(habit, "2026-03-05T00:00:00.000001Z", value: 99);
        await user.Client.CreateEntryAsync(other, "2026-03-03T00:00:00Z", value: 99);
        var deleted = await user.Client.CreateEntryIdAsync(habit, "2026-03-02T00:00:00Z");
        await user.Client.DeleteAsync($"/api/v1/entries/{deleted}");

        var response = await user.Client.GetAsync($"/api/v1/entries?habit_id={habit}&from=2026-03-01T01:00:00%2B01:00&to=2026-03-05T00:00:00Z");

        var body = (await response.ShouldBeAsync(200)).AsArray();
        Assert.Equal([1d, 3d, 5d], body.Select(e => (double)e!["value"]!));
    }

    [Fact]
    public async Task Ok_with_the_last_30_days_by_default()
    {
        var now = Instant.FromUtc(2026, 3, 31, 12, 0);
        Factory.Clock.Reset(now);
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        await user.Client.CreateEntryAsync(habit, "2026-03-01T11:59:59Z", value: 1);
        await user.Client.CreateEntryAsync(habit, "2026-03-01T12:00:00Z", value: 2);
        await user.Client.CreateEntryAsync(habit, "2026-03-31T12:00:00Z", value: 3);
        await user.Client.CreateEntryAsync(habit, "2026-03-31T12:00:01Z", value: 4);

        var response = await user.Client.GetAsync($"/api/v1/entries?habit_id={habit}");

        Assert.Equal([2d, 3d], (await response.ShouldBeAsync(200)).AsArray().Select(e => (double)e!["value"]!));
    }

    [Fact]
    public async Task Ok_with_an_empty_array_when_the_habit_has_no_entries()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.GetAsync($"/api/v1/entries?habit_id={habit}");

        Assert.Equal("[]", (await response.ShouldBeAsync(200)).ToJsonString());
    }

    [Theory]
    [InlineData("", "habit_id")]
    [InlineData("habit_id=", "habit_id")]
    [InlineData("habit_id=not-a-uuid", "habit_id")]
    [InlineData("habit_id=HABIT&from=2026-03-01T00:00:00", "from")]
    [InlineData("habit_id=HABIT&from=yesterday", "from")]
    [InlineData("habit_id=HABIT&to=2026-03-01", "to")]
    [InlineData("habit_id=HABIT&to=9999-12-31T23:59:59-01:00", "to")]
    [InlineData("habit_id=HABIT&to=-9998-01-01T00:00:00Z", "to")]
    [InlineData("habit_id=HABIT&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from")]
    public async Task Bad_request_naming_the_parameter_when_it_is_missing_or_malformed(string query, string parameter)
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.GetAsync($"/api/v1/entries?{query.Replace("HABIT", habit.ToString())}");

        var body = await response.ShouldBeProblemAsync(400);
        Assert.NotNull(body["errors"]![parameter]);
    }

    [Fact]
    public async Task Not_found_when_the_habit_is_another_users()
    {
        var alice = await CreateUserAsync();
        var bob = await CreateUserAsync();
        var habit = await alice.Client.CreateHabitIdAsync();
        await alice.Client.CreateEntryAsync(habit);

        var response = await bob.Client.GetAsync($"/api/v1/entries?habit_id={habit}&from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z");

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Fact]
    public async Task Not_found_when_the_habit_is_deleted()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        await user.Client.DeleteAsync($"/api/v1/habits/{habit}");

        var response = await user.Client.GetAsync($"/api/v1/entries?habit_id={habit}");

        await response.ShouldBeProblemAsync(404, "habit not found");
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().GetAsync($"/api/v1/entries?habit_id={Guid.NewGuid()}");

        await response.ShouldBeProblemAsync(401);
    }
}
