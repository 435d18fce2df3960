using System.Net.Http.Json;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.CreateHabit;

public sealed class CreateHabitTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Created_with_version_1_and_defaults_when_only_a_title_is_given()
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new { title = "  Read  " });

        var body = (await response.ShouldBeAsync(201)).AsObject();
        Console.WriteLine(body.ToJsonString());
        Assert.Equal("Read", (string?)body["title"]);
    }
}
