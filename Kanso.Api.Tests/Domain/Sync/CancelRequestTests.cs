using System.Collections.Concurrent;
using System.Net.Http.Json;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Kanso.Api.Tests.Domain.Sync;

/// <summary>
/// Dapper cancels the command when a multi-statement reader is disposed before its last result is
/// read, and Npgsql carries that out as a PostgreSQL cancel request: a new TCP connection and a forked
/// backend on the server, per write. Under load that cost more CPU than the writes themselves, and a
/// late cancel can hit the next statement sent on the same connection. No ordinary request may send one.
/// </summary>
public sealed class CancelRequestTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Writes_reads_and_the_streak_worker_send_no_cancel_request()
    {
        var npgsql = new ConcurrentQueue<string>();
        await using var host = Fixture.CreateFactory(new Dictionary<string, string?> { ["Logging:LogLevel:Npgsql"] = "Debug" })
            .WithWebHostBuilder(b => b.ConfigureLogging(logging => logging.AddProvider(new Capture(npgsql))));
        var user = await CreateUserAsync();
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = user.Client.DefaultRequestHeaders.Authorization;

        var habit = await client.CreateHabitAsync();
        var habitId = Guid.Parse((string)habit["id"]!);
        await (await client.PutAsJsonAsync($"/api/v1/habits/{habitId}", new { version = 1, title = "Renamed" })).ShouldBeAsync(200);
        var entry = await client.CreateEntryAsync(habitId, DateTime.UtcNow.ToString("O"));
        var entryId = Guid.Parse((string)entry["id"]!);
        await (await client.PutAsJsonAsync($"/api/v1/entries/{entryId}", new { version = 1, value = 2 })).ShouldBeAsync(200);
        await (await client.DeleteAsync($"/api/v1/entries/{entryId}?version=2")).ShouldBeAsync(204);
        await (await client.PostAsJsonAsync("/api/v1/time-off", new { start_date = "2026-02-02", end_date = "2026-02-04" })).ShouldBeAsync(201);
        var push = await client.PushAsync(new
        {
            mutations = new object[]
            {
                new { mutation_id = "h", op = "upsert_habit", id = Guid.NewGuid(), data = new { title = "Pushed" } },
                new { mutation_id = "e1", op = "upsert_entry", id = Guid.NewGuid(), data = new { habit_id = habitId, completion_date = "2026-03-08T07:00:00Z" } },
                new { mutation_id = "e2", op = "upsert_entry", id = Guid.NewGuid(), data = new { habit_id = habitId, completion_date = "2026-03-09T07:00:00Z" } },
                new { mutation_id = "u", op = "upsert_habit", id = habitId, version = 2, data = new { title = "Again" } },
            },
        });
        Assert.All(push["results"]!.AsArray(), r => Assert.Equal("applied", (string?)r!["status"]));
        await (await client.PutAsJsonAsync("/api/v1/settings", new { day_start = "03:00", version = 1 })).ShouldBeAsync(200);
        var doomed = await client.CreateHabitIdAsync();
        await client.CreateEntryAsync(doomed);
        await (await client.DeleteAsync($"/api/v1/habits/{doomed}")).ShouldBeAsync(204);
        await client.PullAsync(null);
        await (await client.GetAsync("/api/v1/export")).ShouldBeAsync(200);
        await (await client.GetAsync("/api/v1/habits/sync")).ShouldBeAsync(200);
        await (await client.GetAsync("/api/v1/entries/sync")).ShouldBeAsync(200);
        await (await client.GetAsync("/api/v1/stats/weekly")).ShouldBeAsync(200);
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await TestRows.EventuallyAsync(async () => !(await db.ReadHabitAsync(user.Id, habitId)).StreakDirty, "the streak worker has run");
        }

        Assert.NotEmpty(npgsql); // Npgsql's debug log is captured at all
        var lines = npgsql.ToArray();
        var cancelled = Enumerable.Range(1, lines.Length - 1).Where(i => lines[i].Contains("cancel", StringComparison.OrdinalIgnoreCase)).Select(i => lines[i - 1]).ToList();
        Assert.True(cancelled.Count == 0, "Cancelled after:\n" + string.Join("\n", cancelled));
    }

    private sealed class Capture(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => categoryName.StartsWith("Npgsql", StringComparison.Ordinal) ? new Logger(lines) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{eventId.Name}: {formatter(state, exception)}");
        }
    }
}
