using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Tests.Infrastructure;
using Npgsql;

namespace Kanso.Api.Tests.Reliability;

/// <summary>
/// Faults injected into real processes: PostgreSQL restarted under load, the API killed with
/// SIGKILL mid-write and stopped with SIGTERM under load. Nothing answered 2xx may be lost, no
/// retry may duplicate, and no fault may surface as a 500 or a hang.
/// </summary>
public sealed class FaultTests(ApiFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : ApiTest(fixture)
{
    /// <summary>Longest any request may take: the request timeout, plus slack for a loaded machine.</summary>
    private static readonly TimeSpan NoHang = Kanso.Api.Infrastructure.Errors.ErrorSetup.RequestTimeout + TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Database_restart_answers_503_with_retry_after_then_serves_again_on_its_own()
    {
        await using var postgres = await LocalPostgres.StartAsync();
        await using var factory = new KansoApiFactory(postgres.ConnectionString, Fixture.Environment.RedisConfiguration);
        _ = factory.Server; // starts the host, which migrates
        var user = await InsertUserAsync(postgres.ConnectionString);
        var client = ClientFor(factory, user.Id, user.Email);
        var habit = await client.CreateHabitIdAsync();
        var outcomes = new ConcurrentBag<(int Status, bool RetryAfter, TimeSpan Took)>();
        using var stop = new CancellationTokenSource();

        var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var sw = Stopwatch.StartNew();
                using var response = n % 2 == 0
                    ? await client.GetAsync($"/api/v1/habits/{habit}")
                    : await client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" });
                outcomes.Add(((int)response.StatusCode, response.Headers.RetryAfter is not null, sw.Elapsed));
                if ((int)response.StatusCode == 503)
                {
                    await Task.Delay(20);
                }
            }
        })).ToArray();
        await Task.Delay(500);
        await postgres.StopAsync();
        var during = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            during.Add((int)(await client.GetAsync($"/api/v1/habits/{habit}")).StatusCode);
        }

        var healthDuring = await Anonymous(factory).GetAsync("/health");
        await postgres.StartAgainAsync();
        var recovered = Stopwatch.StartNew();
        await TestRows.EventuallyAsync(
            async () => (await client.GetAsync($"/api/v1/habits/{habit}")).StatusCode == HttpStatusCode.OK, "the API serves again", TimeSpan.FromSeconds(30));
        var recoveryTime = recovered.Elapsed;
        await Task.Delay(300);
        stop.Cancel();
        await Task.WhenAll(load);

        output.WriteLine($"database restart: {outcomes.Count} requests under load, {outcomes.Count(o => o.Status == 503)} answered 503, none other 5xx, slowest {outcomes.Max(o => o.Took).TotalMilliseconds:0} ms, serving again {recoveryTime.TotalMilliseconds:0} ms after the restart");
        Assert.All(during, status => Assert.Equal(503, status));
        Assert.Equal(503, (int)healthDuring.StatusCode);
        Assert.Equal("unavailable", (string?)(await healthDuring.Content.ReadFromJsonAsync<JsonObject>())!["status"]);
        Assert.DoesNotContain(outcomes, o => o.Status >= 500 && o.Status != 503);
        Assert.All(outcomes.Where(o => o.Status == 503), o => Assert.True(o.RetryAfter, "a 503 carries Retry-After"));
        Assert.All(outcomes, o => Assert.True(o.Took < NoHang, $"a request took {o.Took}"));
        Assert.Contains(outcomes, o => o.Status == 503);
        Assert.True(recoveryTime < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Sigkill_mid_write_loses_no_acknowledged_write_and_retries_duplicate_nothing()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var token = user.Client.DefaultRequestHeaders.Authorization!.Parameter!;
        var acknowledged = new ConcurrentBag<Guid>();
        var unanswered = new ConcurrentBag<Guid>();
        var serverErrors = new ConcurrentBag<int>();
        var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration);
        try
        {
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
            {
                using var client = api.CreateClient(token);
                while (!stop.IsCancellationRequested)
                {
                    var id = Guid.NewGuid();
                    try
                    {
                        using var response = await client.PostAsJsonAsync("/api/v1/entries", new { id, habit_id = habit, completion_date = "2026-03-08T07:00:00Z" });
                        if (response.IsSuccessStatusCode)
                        {
                            acknowledged.Add(id);
                        }
                        else if ((int)response.StatusCode >= 500)
                        {
                            serverErrors.Add((int)response.StatusCode);
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        unanswered.Add(id);
                        return;
                    }
                }
            })).ToArray();
            await TestRows.EventuallyAsync(() => Task.FromResult(acknowledged.Count >= 100), "writes are flowing");

            await api.KillAsync();
            await Task.WhenAll(writers);
        }
        finally
        {
            await api.DisposeAsync();
        }

        await using var restarted = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration);
        using var retry = restarted.CreateClient(token);
        foreach (var id in unanswered.Concat(acknowledged.Take(20)))
        {
            using var response = await retry.PostAsJsonAsync("/api/v1/entries", new { id, habit_id = habit, completion_date = "2026-03-08T07:00:00Z" });
            Assert.True((int)response.StatusCode is 200 or 201, $"retry of {id}: {(int)response.StatusCode}");
        }

        await using var db = await OpenDatabaseAsync();
        var stored = (await db.QueryAsync<Guid>("SELECT id FROM habit_entries WHERE user_id = @userId", new { userId = user.Id })).ToList();
        output.WriteLine($"SIGKILL: {acknowledged.Count} acknowledged writes checked, {unanswered.Count} unanswered retried, {stored.Count} rows, {serverErrors.Count} 5xx");
        Assert.Empty(serverErrors);
        Assert.Empty(acknowledged.Except(stored));
        Assert.Empty(unanswered.Except(stored));
        Assert.Equal(stored.Count, stored.Distinct().Count());
        Assert.Equal(acknowledged.Count + unanswered.Count, stored.Count);
    }

    [Fact]
    public async Task Sigkill_mid_push_loses_no_acknowledged_mutation_and_replays_apply_nothing_twice()
    {
        var user = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var token = user.Client.DefaultRequestHeaders.Authorization!.Parameter!;
        var acknowledged = new ConcurrentBag<object>();
        var unanswered = new ConcurrentBag<object>();
        var acknowledgedIds = new ConcurrentBag<Guid>();
        var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration);
        try
        {
            var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                using var client = api.CreateClient(token);
                while (true)
                {
                    var ids = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToArray();
                    var batch = new
                    {
                        mutations = ids.Select(id => new { mutation_id = $"m-{id}", op = "upsert_entry", id, data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } }).ToArray(),
                    };
                    try
                    {
                        using var response = await client.PostAsJsonAsync("/api/v1/sync/push", batch);
                        Assert.Equal(200, (int)response.StatusCode);
                        acknowledged.Add(batch);
                        foreach (var id in ids)
                        {
                            acknowledgedIds.Add(id);
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        unanswered.Add(batch);
                        return;
                    }
                }
            })).ToArray();
            await TestRows.EventuallyAsync(() => Task.FromResult(acknowledged.Count >= 30), "pushes are flowing");

            await api.KillAsync();
            await Task.WhenAll(writers);
        }
        finally
        {
            await api.DisposeAsync();
        }

        await using var db = await OpenDatabaseAsync();
        var beforeRetries = (await db.QueryAsync<Guid>("SELECT id FROM habit_entries WHERE user_id = @userId", new { userId = user.Id })).ToHashSet();
        await using var restarted = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration);
        using var retry = restarted.CreateClient(token);
        foreach (var batch in unanswered.Concat(acknowledged.Take(5)))
        {
            using var response = await retry.PostAsJsonAsync("/api/v1/sync/push", batch);
            var body = await response.ShouldBeAsync(200);
            Assert.All(body["results"]!.AsArray(), r => Assert.Equal("applied", (string?)r!["status"]));
        }

        var stored = (await db.QueryAsync<Guid>("SELECT id FROM habit_entries WHERE user_id = @userId", new { userId = user.Id })).ToList();
        output.WriteLine($"SIGKILL mid-push: {acknowledged.Count} acknowledged batches ({acknowledgedIds.Count} mutations) checked, {unanswered.Count} unanswered batches replayed, {stored.Count} rows");
        Assert.Empty(acknowledgedIds.Except(beforeRetries));
        Assert.Equal(stored.Count, stored.Distinct().Count());
        Assert.Equal(acknowledgedIds.Count + (unanswered.Count * 10), stored.Count);
    }

    [Fact]
    public async Task Sigterm_under_load_completes_in_flight_requests_drains_streaks_and_exits_0()
    {
        var user = await CreateUserAsync();
        var token = user.Client.DefaultRequestHeaders.Authorization!.Parameter!;
        var habits = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            habits.Add(await user.Client.CreateHabitIdAsync());
        }

        var acknowledged = new ConcurrentBag<Guid>();
        var statuses = new ConcurrentBag<int>();
        // One instant for every entry: all count on one day, whenever (even across UTC midnight) the test runs.
        var completedAt = DateTime.UtcNow.ToString("O");
        await using var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration);
        var writers = habits.Select(habit => Task.Run(async () =>
        {
            using var client = api.CreateClient(token);
            while (true)
            {
                var id = Guid.NewGuid();
                try
                {
                    using var response = await client.PostAsJsonAsync("/api/v1/entries", new { id, habit_id = habit, completion_date = completedAt });
                    statuses.Add((int)response.StatusCode);
                    if (response.IsSuccessStatusCode)
                    {
                        acknowledged.Add(id);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return; // the server stopped listening
                }
            }
        })).ToArray();
        await TestRows.EventuallyAsync(() => Task.FromResult(acknowledged.Count >= 100), "writes are flowing");

        var exitCode = await api.TerminateAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(writers);

        output.WriteLine($"SIGTERM: {statuses.Count} answers ({acknowledged.Count} acknowledged), exit code {exitCode}");
        Assert.Equal(0, exitCode);
        Assert.DoesNotContain(statuses, s => s >= 500);
        await using var db = await OpenDatabaseAsync();
        var stored = (await db.QueryAsync<Guid>("SELECT id FROM habit_entries WHERE user_id = @userId", new { userId = user.Id })).ToHashSet();
        Assert.Empty(acknowledged.Except(stored));
        var dirty = await db.ExecuteScalarAsync<int>("SELECT count(*) FROM habits WHERE user_id = @userId AND streak_dirty", new { userId = user.Id });
        Assert.True(dirty == 0, $"{dirty} habits still dirty after the drain:\n{api.Output}");
        var streaks = await db.QueryAsync<int>("SELECT current_streak FROM habits WHERE user_id = @userId", new { userId = user.Id });
        Assert.All(streaks, s => Assert.Equal(1, s));
    }

    [Fact]
    public async Task Sigterm_answers_every_request_sent_before_it()
    {
        var user = await CreateUserAsync();
        var token = user.Client.DefaultRequestHeaders.Authorization!.Parameter!;
        var habit = await user.Client.CreateHabitIdAsync();
        await using var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration);

        // Hold the user's row lock: every write takes it first, so these requests are provably in flight
        // (waiting inside the server) when SIGTERM arrives, not merely sent around the same time.
        await using var locker = await OpenDatabaseAsync();
        await using var hold = await locker.BeginTransactionAsync();
        await locker.ExecuteAsync("SELECT 1 FROM users WHERE id = @id FOR UPDATE", new { id = user.Id }, hold);
        var ids = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToList();
        var requests = ids.Select(id => Task.Run(async () =>
        {
            using var client = api.CreateClient(token);
            using var response = await client.PostAsJsonAsync("/api/v1/entries", new { id, habit_id = habit, completion_date = "2026-03-08T07:00:00Z" });
            return (int)response.StatusCode;
        })).ToList();
        await using (var watch = await OpenDatabaseAsync())
        {
            // On Citus the lock is waited for on the worker that holds the user's shard: citus_stat_activity
            // shows every node's backends (the coordinator's own wait for the worker is not a lock wait).
            var activity = await watch.ExecuteScalarAsync<bool>("SELECT to_regclass('citus_stat_activity') IS NOT NULL")
                ? "citus_stat_activity" : "pg_stat_activity";
            await TestRows.EventuallyAsync(
                async () => await watch.ExecuteScalarAsync<long>(
                    $"SELECT count(*) FROM {activity} WHERE wait_event_type = 'Lock' AND query LIKE '%change_seq%'") >= ids.Count,
                "every request waits for the user's lock inside the server");
        }

        await Shell.RunAsync("kill", ["-TERM", api.Pid.ToString(CultureInfo.InvariantCulture)]);
        await TestRows.EventuallyAsync(() => Task.FromResult(api.Output.Contains("Application is shutting down", StringComparison.Ordinal)), "the host begins its shutdown");
        await hold.RollbackAsync();

        var statuses = await Task.WhenAll(requests);
        Assert.All(statuses, s => Assert.Equal(201, s));
        await TestRows.EventuallyAsync(() => Task.FromResult(api.HasExited), "the process exits");
        await using var db = await OpenDatabaseAsync();
        var stored = await db.QueryAsync<Guid>("SELECT id FROM habit_entries WHERE user_id = @id", new { id = user.Id });
        Assert.Equal(ids.ToHashSet(), stored.ToHashSet());
    }

    private HttpClient Anonymous(KansoApiFactory factory) => factory.CreateClient();

    private static async Task<(Guid Id, string Email)> InsertUserAsync(string connectionString)
    {
        var id = Guid.NewGuid();
        var email = $"fault-{id:N}@example.com";
        await using var db = new NpgsqlConnection(connectionString);
        await db.ExecuteAsync("INSERT INTO users (id, email) VALUES (@id, @email)", new { id, email });
        return (id, email);
    }
}
