using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.UpdateHabit;

/// <summary>v1.1: a record fetched from the server can be sent back as it is, and the nullable fields clear with null.</summary>
public sealed class RoundTripTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Theory]
    [InlineData("daily", null)]
    [InlineData("specific_days", "weekdays")]
    [InlineData("interval", "interval")]
    [InlineData("weekly", "times_per_week")]
    public async Task A_habit_fetched_from_the_server_can_be_sent_back_as_it_is(string frequency, string? parameter)
    {
        var user = await CreateUserAsync();
        var body = new JsonObject { ["title"] = "Read", ["frequency_type"] = frequency, ["color"] = "#abc" };
        if (parameter is not null)
        {
            body[parameter] = parameter == "weekdays" ? new JsonArray(1, 3) : 2;
        }

        var created = await user.Client.CreateHabitAsync(body);
        var id = (string)created["id"]!;

        var put = await (await user.Client.PutAsJsonAsync($"/api/v1/habits/{id}", created)).ShouldBeAsync(200);
        var push = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "back", op = "upsert_habit", id, version = 2, data = put } } });

        Assert.Equal(2, (int)put["version"]!);
        Assert.Equal("applied", (string?)push["results"]![0]!["status"]);
        Assert.Equal(3, (int)push["results"]![0]!["record"]!["version"]!);
    }

    [Fact]
    public async Task A_push_create_can_send_every_field_as_the_server_returns_it()
    {
        var user = await CreateUserAsync();
        var id = Guid.NewGuid();

        var push = await user.Client.PushAsync(new
        {
            mutations = new[]
            {
                new { mutation_id = "c", op = "upsert_habit", id, data = new { title = "Read", frequency_type = "daily", weekdays = (int[]?)null, interval = (int?)null, times_per_week = (int?)null, color = (string?)null } },
            },
        });

        Assert.Equal("applied", (string?)push["results"]![0]!["status"]);
    }

    [Fact]
    public async Task Null_for_a_frequency_parameter_the_habit_uses_is_still_a_400()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync(new { title = "Read", frequency_type = "weekly", times_per_week = 3 });

        var response = await user.Client.PutAsync($"/api/v1/habits/{id}", RecordApi.Json("""{"version": 1, "times_per_week": null}"""));

        var body = await response.ShouldBeProblemAsync(400);
        Assert.NotNull(body["errors"]!["times_per_week"]);
    }

    [Fact]
    public async Task Color_clears_with_null()
    {
        var user = await CreateUserAsync();
        var id = await user.Client.CreateHabitIdAsync(new { title = "Read", color = "#123456" });

        var updated = await (await user.Client.PutAsync($"/api/v1/habits/{id}", RecordApi.Json("""{"version": 1, "color": null}"""))).ShouldBeAsync(200);

        Assert.Null(updated["color"]);
        Assert.True(updated.AsObject().ContainsKey("color"));
    }

    [Fact]
    public async Task An_entrys_notes_clear_with_null_by_put_and_by_push()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var first = (string)(await (await user.Client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", notes = "a" })).ShouldBeAsync(201))["id"]!;
        var second = (string)(await (await user.Client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z", notes = "b" })).ShouldBeAsync(201))["id"]!;

        var put = await (await user.Client.PutAsync($"/api/v1/entries/{first}", RecordApi.Json("""{"version": 1, "notes": null}"""))).ShouldBeAsync(200);
        var push = await user.Client.PushAsync(new { mutations = new[] { new { mutation_id = "n", op = "upsert_entry", id = second, version = 1, data = new { notes = (string?)null } } } });

        Assert.Null(put["notes"]);
        Assert.Equal("applied", (string?)push["results"]![0]!["status"]);
        Assert.Null(push["results"]![0]!["record"]!["notes"]);
    }
}
