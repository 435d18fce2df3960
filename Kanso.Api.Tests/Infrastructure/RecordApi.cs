using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>Arrange helpers for tests that need habits and entries to exist (the slices' own tests drive their routes directly).</summary>
public static class RecordApi
{
    public static async Task<JsonObject> CreateHabitAsync(this HttpClient client, object? body = null)
    {
        var response = await client.PostAsJsonAsync("/api/v1/habits", body ?? new { title = "Read" });
        return (await response.ShouldBeAsync(201)).AsObject();
    }

    public static async Task<Guid> CreateHabitIdAsync(this HttpClient client, object? body = null) =>
        Guid.Parse((string)(await client.CreateHabitAsync(body))["id"]!);

    public static async Task<JsonObject> CreateEntryAsync(this HttpClient client, Guid habitId, string completionDate = "2026-03-08T07:00:00Z", double value = 1)
    {
        var response = await client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habitId, completion_date = completionDate, value });
        return (await response.ShouldBeAsync(201)).AsObject();
    }

    public static async Task<Guid> CreateEntryIdAsync(this HttpClient client, Guid habitId, string completionDate = "2026-03-08T07:00:00Z") =>
        Guid.Parse((string)(await client.CreateEntryAsync(habitId, completionDate))["id"]!);

    /// <summary>A body as literal JSON, for nulls, wrong types and malformed input.</summary>
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
