using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.Settings;

public sealed class SettingsTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Settings_default_to_the_users_zone_and_midnight_and_change_under_a_version_guard()
    {
        var user = await CreateUserAsync("Europe/Rome");

        var initial = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/settings");
        var changed = await user.Client.SendOkAsync(HttpMethod.Put, "/api/v1/settings", new { timezone = "Asia/Tokyo", day_start = "04:30", version = 1 });
        var stale = await user.Client.SendAsync(HttpMethod.Put, "/api/v1/settings", new { day_start = "01:00", version = 1 });
        var read = await user.Client.SendOkAsync(HttpMethod.Get, "/api/v1/settings");

        Assert.Equal(("Europe/Rome", "00:00", 1), ((string?)initial["timezone"], (string?)initial["day_start"], (int)initial["version"]!));
        Assert.Equal(("Asia/Tokyo", "04:30", 2), ((string?)changed["timezone"], (string?)changed["day_start"], (int)changed["version"]!));
        Assert.Equal("04:30", (string?)(await stale.ShouldBeProblemAsync(409, "version conflict"))["current"]!["day_start"]);
        Assert.Equal(("Asia/Tokyo", "04:30", 2), ((string?)read["timezone"], (string?)read["day_start"], (int)read["version"]!));
    }

    [Theory]
    [InlineData("""{"day_start":"06:01","version":1}""", "day_start")]
    [InlineData("""{"day_start":"7:00","version":1}""", "day_start")]
    [InlineData("""{"day_start":null,"version":1}""", "day_start")]
    [InlineData("""{"timezone":"Mars/Olympus_Mons","version":1}""", "timezone")]
    [InlineData("""{"timezone":"UTC"}""", "version")]
    public async Task Bad_settings_are_a_400_naming_the_field(string body, string field)
    {
        var user = await CreateUserAsync();

        var response = await user.Client.PutAsync("/api/v1/settings", RecordApi.Json(body));

        Assert.NotNull((await response.ShouldBeProblemAsync(400))["errors"]![field]);
    }

    [Fact]
    public async Task A_settings_change_reaches_other_devices_through_pull_once()
    {
        var user = await CreateUserAsync();
        var first = await user.Client.PullPagesAsync(null, protocol2: true);
        var cursor = (string)first[^1]["cursor"]!;

        var idle = await user.Client.PullPagesAsync(cursor, protocol2: true);
        await user.Client.SendOkAsync(HttpMethod.Put, "/api/v1/settings", new { day_start = "03:00", version = 1 });
        var changed = await user.Client.PullPagesAsync(cursor, protocol2: true);
        var after = await user.Client.PullPagesAsync((string)changed[^1]["cursor"]!, protocol2: true);
        var earlier = await user.Client.PullPagesAsync(cursor, protocol2: false);

        Assert.Equal("00:00", (string?)first[0]["settings"]!["day_start"]);
        Assert.Null(idle[0]["settings"]);
        Assert.Equal(("03:00", 2), ((string?)changed[0]["settings"]!["day_start"], (int)changed[0]["settings"]!["version"]!));
        Assert.Null(after[0]["settings"]);
        Assert.False(earlier[0].AsObject().ContainsKey("settings"));
        Assert.False(earlier[0].AsObject().ContainsKey("time_off"));
    }
}
