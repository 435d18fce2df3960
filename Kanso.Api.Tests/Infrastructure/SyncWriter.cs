using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// A writer for sync concurrency tests: a client of its own making random creates, updates and
/// deletes of habits and entries it owns (so its versions are always right and every write succeeds).
/// </summary>
public sealed class SyncWriter(HttpClient client, int seed)
{
    private readonly Random _random = new(seed);
    private readonly List<(Guid Id, int Version)> _habits = [];
    private readonly List<(Guid Id, Guid HabitId, int Version)> _entries = [];

    public async Task RunAsync(int operations)
    {
        for (var i = 0; i < operations; i++)
        {
            var choice = _random.Next(20);
            if (_habits.Count == 0 || choice == 0)
            {
                var created = await Expect(client.PostAsJsonAsync("/api/v1/habits", new { id = Guid.NewGuid(), title = $"Habit {i}" }), 201);
                _habits.Add((Id(created), 1));
            }
            else if (choice < 8)
            {
                var habit = _habits[_random.Next(_habits.Count)];
                var created = await Expect(client.PostAsJsonAsync("/api/v1/entries", new
                {
                    id = Guid.NewGuid(),
                    habit_id = habit.Id,
                    completion_date = $"2026-03-{_random.Next(1, 29):00}T07:00:00Z",
                    value = _random.Next(1, 5),
                }), 201);
                _entries.Add((Id(created), habit.Id, 1));
            }
            else if (choice < 11)
            {
                var at = _random.Next(_habits.Count);
                var updated = await Expect(client.PutAsJsonAsync($"/api/v1/habits/{_habits[at].Id}", new { version = _habits[at].Version, title = $"Renamed {i}" }), 200);
                _habits[at] = (_habits[at].Id, (int)updated["version"]!);
            }
            else if (choice < 15 && _entries.Count > 0)
            {
                var at = _random.Next(_entries.Count);
                var updated = await Expect(client.PutAsJsonAsync($"/api/v1/entries/{_entries[at].Id}", new { version = _entries[at].Version, value = _random.Next(0, 9) }), 200);
                _entries[at] = (_entries[at].Id, _entries[at].HabitId, (int)updated["version"]!);
            }
            else if (choice < 19 && _entries.Count > 0)
            {
                var at = _random.Next(_entries.Count);
                await Expect(client.DeleteAsync($"/api/v1/entries/{_entries[at].Id}"), 204);
                _entries.RemoveAt(at);
            }
            else if (_habits.Count > 1)
            {
                var at = _random.Next(_habits.Count);
                var habit = _habits[at].Id;
                await Expect(client.DeleteAsync($"/api/v1/habits/{habit}"), 204);
                _habits.RemoveAt(at);
                _entries.RemoveAll(e => e.HabitId == habit);
            }
        }
    }

    private static Guid Id(JsonNode record) => Guid.Parse((string)record["id"]!);

    private static async Task<JsonNode> Expect(Task<HttpResponseMessage> request, int status) => await (await request).ShouldBeAsync(status);
}
