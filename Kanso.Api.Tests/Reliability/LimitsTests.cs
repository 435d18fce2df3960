using System.Net.Http.Json;
using System.Text;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Reliability;

/// <summary>Every limit the service enforces answers a 4xx problem, never a 5xx or a hang.</summary>
public sealed class LimitsTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Body_over_one_mebibyte_is_413()
    {
        var user = await CreateUserAsync();
        var body = $$"""{"title":"{{new string('x', (1024 * 1024) + 1)}}"}""";

        var response = await user.Client.PostAsync("/api/v1/habits", new StringContent(body, Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemAsync(413, "payload too large");
    }

    [Fact]
    public async Task Json_nested_deeper_than_the_limit_is_400()
    {
        var user = await CreateUserAsync();
        var deep = new string('[', 65) + new string(']', 65);

        var response = await user.Client.PostAsync("/api/v1/habits", new StringContent($$"""{"title":"a","weekdays":{{deep}}}""", Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemAsync(400);
    }

    [Theory]
    [InlineData("/api/v1/sync/pull?limit=0")]
    [InlineData("/api/v1/sync/pull?limit=1001")]
    [InlineData("/api/v1/sync/pull?limit=5000")]
    [InlineData("/api/v1/stats/weekly?start_date=2025-01-01&end_date=2026-01-02")]
    [InlineData("/api/v1/stats/weekly?start_date=2026-03-09&end_date=2026-03-08")]
    public async Task Query_over_a_limit_is_400(string url)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync(url);

        await response.ShouldBeProblemAsync(400);
    }

    [Fact]
    public async Task Stats_range_of_exactly_366_days_is_allowed()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.GetAsync("/api/v1/stats/weekly?start_date=2025-01-01&end_date=2026-01-01");

        await response.ShouldBeAsync(200);
    }

    [Fact]
    public async Task Push_of_501_mutations_is_400()
    {
        var user = await CreateUserAsync();
        var mutations = Enumerable.Range(0, 501).Select(_ => new { mutation_id = Guid.NewGuid(), op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "x" } });

        var response = await user.Client.PostAsJsonAsync("/api/v1/sync/push", new { mutations });

        await response.ShouldBeProblemAsync(400);
    }

    [Theory]
    [InlineData("title", 101)]
    [InlineData("description", 501)]
    [InlineData("icon", 51)]
    [InlineData("unit", 21)]
    public async Task Habit_string_over_its_length_is_400_naming_the_field(string field, int length)
    {
        var user = await CreateUserAsync();
        var body = new Dictionary<string, object> { ["title"] = "ok", [field] = new string('é', length) };

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", body);

        var problem = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task Entry_notes_over_1000_code_points_is_400()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", notes = string.Concat(Enumerable.Repeat("😀", 1001)) });

        var problem = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(problem["errors"]!["notes"]);
    }

    [Fact]
    public async Task Emoji_count_as_one_character_each()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new { title = string.Concat(Enumerable.Repeat("😀", 100)) });

        await response.ShouldBeAsync(201);
    }

    [Fact]
    public async Task Password_over_128_characters_is_400()
    {
        var response = await Anonymous().PostAsJsonAsync("/api/v1/auth/register", new { email = "long@example.com", password = new string('p', 129) });

        var problem = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(problem["errors"]!["password"]);
    }
}
