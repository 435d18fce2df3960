using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Kanso.Api.Tests.Infrastructure;
using NodaTime;

namespace Kanso.Api.Tests.Operations;

/// <summary>
/// Scrapes a running API process (its own meters, nothing shared with other tests) after a known
/// sequence of requests and checks every kanso_* metric and the HTTP histogram by count.
/// </summary>
public sealed partial class MetricsTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task A_scrape_after_pushes_with_a_conflict_and_a_replay_counts_every_kanso_metric()
    {
        var user = await CreateUserAsync();
        var leaving = await CreateUserAsync();
        var metricsPort = Shell.FreePort();
        await using var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration, new Dictionary<string, string?>
        {
            ["Metrics__Port"] = metricsPort.ToString(CultureInfo.InvariantCulture),
            ["Sync__PurgeInterval"] = "00:00:01",
        }, extraPort: metricsPort);
        using var client = api.CreateClient(user.Client.DefaultRequestHeaders.Authorization!.Parameter);
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}"), Timeout = TimeSpan.FromSeconds(30) };
        var apiRequests = 0;
        var habit = Guid.NewGuid();
        var entry = Guid.NewGuid();
        var create = new { mutation_id = "m1", op = "upsert_habit", id = habit, version = 0, data = new { title = "Read" } };

        // Two applied, one not found (an entry of no habit), one rejected (unknown op).
        var first = await PushAsync(client, create,
            new { mutation_id = "m2", op = "upsert_entry", id = entry, version = 0, data = new { habit_id = habit, completion_date = "2026-03-08T07:00:00Z" } },
            new { mutation_id = "m3", op = "upsert_entry", id = Guid.NewGuid(), version = 0, data = new { habit_id = Guid.NewGuid(), completion_date = "2026-03-08T07:00:00Z" } },
            new { mutation_id = "m4", op = "rename_habit", id = habit, version = 1, data = new { } });
        apiRequests++;

        // The retry of m1 is replayed; an update from a version the habit no longer has is a conflict.
        var second = await PushAsync(client, create, new { mutation_id = "m5", op = "upsert_habit", id = habit, version = 5, data = new { title = "Write" } });
        apiRequests++;

        // A stale version on the REST route.
        await (await client.PutAsJsonAsync($"/api/v1/habits/{habit}", new { version = 7, title = "Stale" })).ShouldBeProblemAsync(409);
        apiRequests++;

        // Two pull pages of the two live records.
        var page1 = await (await client.GetAsync("/api/v1/sync/pull?limit=1")).ShouldBeAsync(200);
        var page2 = await (await client.GetAsync($"/api/v1/sync/pull?cursor={Uri.EscapeDataString((string)page1["cursor"]!)}")).ShouldBeAsync(200);
        apiRequests += 2;
        var cursor = (string)page2["cursor"]!;

        // A tombstone past the retention, which the purge removes; the cursor from before it is then 410.
        await using (var db = await Factory.OpenAppDatabaseAsync())
        {
            await db.InsertHabitAsync(user.Id, new TestHabit { DeletedAt = SystemClock.Instance.GetCurrentInstant() - Duration.FromDays(40) });
        }

        // Deleting an account announces it over Redis; this instance evicts it from its cache.
        using (var leavingClient = api.CreateClient(leaving.Client.DefaultRequestHeaders.Authorization!.Parameter))
        {
            await (await leavingClient.DeleteAsync("/api/v1/auth/user")).ShouldBeAsync(200);
            apiRequests++;
        }

        string text = "";
        await TestRows.EventuallyAsync(async () =>
        {
            text = await scraper.GetStringAsync("/metrics");
            return Value(text, "kanso_purge_rows_total") >= 1 && Value(text, "kanso_revocation_evictions_total") >= 1
                && Value(text, "kanso_streak_jobs_total", ("outcome", "done")) >= 1;
        }, "the purge, the eviction and the streak job are counted", TimeSpan.FromSeconds(60));

        await (await client.GetAsync($"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}")).ShouldBeProblemAsync(410, "resync required");
        apiRequests++;
        await TestRows.EventuallyAsync(async () =>
        {
            text = await scraper.GetStringAsync("/metrics");
            return Value(text, "kanso_sync_resync_required_total") == 1
                && Value(text, "kanso_ratelimit_decisions_total", ("bucket", "user"), ("store", "redis"), ("decision", "allowed")) == apiRequests;
        }, "the 410 and every rate-limit decision are counted", TimeSpan.FromSeconds(60));

        Assert.Equal(["applied", "applied", "not_found", "rejected"], first);
        Assert.Equal(["applied", "conflict"], second);
        Assert.Equal(2, Value(text, "kanso_sync_pushes_total"));
        Assert.Equal(2, Value(text, "kanso_sync_push_mutations_total", ("status", "applied")));
        Assert.Equal(1, Value(text, "kanso_sync_push_mutations_total", ("status", "not_found")));
        Assert.Equal(1, Value(text, "kanso_sync_push_mutations_total", ("status", "rejected")));
        Assert.Equal(1, Value(text, "kanso_sync_push_mutations_total", ("status", "replayed")));
        Assert.Equal(1, Value(text, "kanso_sync_push_mutations_total", ("status", "conflict")));
        Assert.Equal(1, Value(text, "kanso_conflicts_total", ("source", "push")));
        Assert.Equal(1, Value(text, "kanso_conflicts_total", ("source", "rest")));
        Assert.Equal(2, Value(text, "kanso_sync_pull_pages_total"));
        Assert.Equal(2, Value(text, "kanso_sync_pull_rows_total"));
        Assert.Equal(1, Value(text, "kanso_purge_rows_total"));
        Assert.True(Value(text, "kanso_purge_runs_total") >= 1);
        Assert.Equal(0, Value(text, "kanso_streak_jobs_total", ("outcome", "failed")));
        Assert.Equal(0, Value(text, "kanso_streak_queue_full_total"));
        Assert.True(Value(text, "kanso_streak_queue_depth") >= 0);
        Assert.True(Value(text, "kanso_streak_sweep_lag_seconds") >= 0);
        Assert.Equal(1, Value(text, "kanso_revocation_evictions_total"));
        Assert.Equal(0, Value(text, "kanso_ratelimit_decisions_total", ("store", "local")) ?? 0);
        Assert.True(Value(text, "http_server_request_duration_seconds_count", ("http_route", "/api/v1/sync/push"), ("http_response_status_code", "200")) == 2);

        Assert.DoesNotContain("\"LogLevel\":\"Error\"", api.Output);

        // The scrape endpoint answers only on its own port.
        Assert.Equal(HttpStatusCode.NotFound, (await api.CreateClient().GetAsync("/metrics")).StatusCode);
    }

    private static async Task<string[]> PushAsync(HttpClient client, params object[] mutations)
    {
        var body = await (await client.PostAsJsonAsync("/api/v1/sync/push", new { mutations })).ShouldBeAsync(200);
        return body["results"]!.AsArray().Select(r => (string)r!["status"]!).ToArray();
    }

    /// <summary>The sum of the samples of a metric whose labels include the given ones; null when none.</summary>
    private static double? Value(string exposition, string name, params (string Label, string Value)[] labels)
    {
        double? sum = null;
        foreach (var line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = Sample().Match(line);
            if (!match.Success || match.Groups["name"].Value != name)
            {
                continue;
            }

            var found = Label().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            if (labels.All(l => found.TryGetValue(l.Label, out var v) && v == l.Value))
            {
                sum = (sum ?? 0) + double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
