// Kanso benchmark: seeds a realistic dataset, starts the API in Release, drives each workload
// over loopback with a fixed number of connections, and writes bench/RESULTS.md.
// Run through bench/run.sh, which starts PostgreSQL and Redis and publishes the API.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kanso.Bench;

var pg = Env("KANSO_BENCH_POSTGRES");
var redis = Env("KANSO_BENCH_REDIS");
var apiDll = Env("KANSO_BENCH_API_DLL");
var results = Env("KANSO_BENCH_RESULTS");
var seconds = int.Parse(Environment.GetEnvironmentVariable("KANSO_BENCH_SECONDS") ?? "6", CultureInfo.InvariantCulture);
var users = int.Parse(Environment.GetEnvironmentVariable("KANSO_BENCH_USERS") ?? "2000", CultureInfo.InvariantCulture);
const string SigningKey = "kanso-benchmark-signing-key-0123456789-abcdef";

Report.NoteStart();
if (args is ["bare", ..])
{
    return await BareServer.RunAsync(args[1..], pg, apiDll);
}

if (args is ["live", ..])
{
    return await LiveBench.RunAsync(pg, redis, apiDll, results, seconds, users);
}

await using var api = await ApiServer.StartAsync(apiDll, pg, redis, SigningKey);
Console.WriteLine($"API pid {api.Pid} on {api.BaseAddress}");

var scaling = Environment.GetEnvironmentVariable("KANSO_BENCH_SCALING") != "0";
// The first extra account is the initial-sync account of the main table (20,000 rows); the scaling
// curves add accounts of 1,000 and 200,000 rows.
var dataset = scaling
    ? await Seeder.SeedAsync(pg, users, habitsPerUser: 10, entriesPerHabit: 200, (20, 999), (10, 99), (20, 9_999))
    : await Seeder.SeedAsync(pg, users, habitsPerUser: 10, entriesPerHabit: 200, (20, 999));
// Steady state: every habit has had a recompute (and so a streak checkpoint), as habits in use have.
await Workloads.RecomputeAllStreaksAsync(pg);
var tokens = new Tokens(SigningKey);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    BaseAddress = api.BaseAddress,
    Timeout = TimeSpan.FromSeconds(60),
};

var duration = TimeSpan.FromSeconds(seconds);

// Pull: a delta of about 50 rows. Each bench user's cursor is found by paging the initial sync
// up to 50 rows before the end.
var pullUsers = dataset.Users.Take(256).ToArray();
var deltaCursors = new string[pullUsers.Length];
for (var i = 0; i < pullUsers.Length; i++)
{
    deltaCursors[i] = await Workloads.CursorBeforeEndAsync(http, tokens.For(pullUsers[i]), dataset.RowsPerUser - 50);
}

if (Environment.GetEnvironmentVariable("KANSO_BENCH_OBSERVABILITY") == "compare")
{
    return await ObservabilityComparison.RunAsync(apiDll, pg, redis, SigningKey, tokens, pullUsers, deltaCursors, duration);
}

var probe = new Probe(await CpuMeter.CreateAsync(pg, () => api.Pid), await StatementCounter.CreateAsync(pg));
var pgbench = Environment.GetEnvironmentVariable("KANSO_BENCH_PGBENCH");
Ceiling? ceiling = null;
if (pgbench is { Length: > 0 } && Environment.GetEnvironmentVariable("KANSO_BENCH_CEILING") != "0")
{
    var scripts = Directory.CreateTempSubdirectory("kanso-ceiling-").FullName;
    ceiling = new Ceiling(pgbench, pg, KansoSql.Load(apiDll), dataset, probe.Cpu, probe.Statements, scripts)
    {
        Seconds = int.Parse(Environment.GetEnvironmentVariable("KANSO_BENCH_CEILING_SECONDS") ?? "4", CultureInfo.InvariantCulture),
        PausedProcess = () => api.Pid,
    };
    Console.WriteLine($"Ceilings: pgbench scripts in {scripts}");
}

var rows = new List<WorkloadRow>();
var generators = new List<GeneratorRun>();
// KANSO_BENCH_ONLY=pull,stats,update,create,push,curves runs only those parts (while working on one).
var only = Environment.GetEnvironmentVariable("KANSO_BENCH_ONLY") is { Length: > 0 } o ? o.Split(',') : null;
bool Wanted(string part) => only is null || only.Contains(part);

// KANSO_BENCH_ROUNDS (6): a workload's API run and its ceiling alternate this many times, and the row's
// req/s, ceiling and ratio are pooled over all rounds (every request over every second the API ran,
// every transaction over every second pgbench ran). On a shared machine the same pgbench run moves
// by 15-25 % from one minute to the next (pull: 8,257, 6,350 and 7,399 tx/s in three rounds of one
// run), so one round's ratio carries that noise; many short alternations cancel the drift and
// average the rest. p50, p99 and the CPU split come from the round with the median ratio.
var roundCount = int.Parse(Environment.GetEnvironmentVariable("KANSO_BENCH_ROUNDS") ?? "6", CultureInfo.InvariantCulture);
async Task<WorkloadRow> Rounds(string ceilingName, Func<Task<Measurement>> runApi, Func<Ceiling, Measurement, string> script)
{
    var rounds = new List<(Measurement M, CeilingResult? C)>();
    int? clients = null;
    for (var r = 0; r < roundCount; r++)
    {
        var m = await runApi();
        // The client count is found once, after the first API run, and that search is not counted:
        // the best of three runs would lift the first round's ceiling above the others.
        clients ??= ceiling is null ? null : (await ceiling.RunAsync(ceilingName + ", finding the best client count", script(ceiling, m))).Clients;
        var c = ceiling is null ? null : await ceiling.RunAsync(ceilingName, script(ceiling, m), clients);
        rounds.Add((m, c));
    }

    double Ratio((Measurement M, CeilingResult? C) round) => round.C is null ? double.NaN : round.M.RequestsPerSecond / round.C.Tps;
    var median = rounds.OrderBy(round => round.C is null ? round.M.RequestsPerSecond : Ratio(round)).ElementAt(rounds.Count / 2);
    double Seconds(Measurement m) => duration.TotalSeconds + m.SettleSeconds;
    var apiSeconds = rounds.Sum(round => Seconds(round.M));
    var pooled = median.M with
    {
        RequestsPerSecond = rounds.Sum(round => round.M.Requests) / apiSeconds,
        OpsPerSecond = rounds.Sum(round => round.M.OpsPerSecond * Seconds(round.M)) / apiSeconds,
        Errors = rounds.Sum(round => round.M.Errors),
    };
    // Every ceiling round runs for the same seconds: their transactions over their time is the mean.
    var pooledCeiling = median.C is null ? null : median.C with { Tps = rounds.Average(round => round.C!.Tps) };
    return new WorkloadRow(pooled, pooledCeiling, rounds.Select(Ratio).ToList());
}

// KANSO_BENCH_BASELINE (bench/run.sh): the API built at another commit runs the same workloads right
// after this one's, on the same data, for a before/after in the same run.
var baselineDll = Environment.GetEnvironmentVariable("KANSO_BENCH_BASELINE_DLL") is { Length: > 0 } b ? b : null;
var before = new List<(Measurement Before, Measurement After)>();
Func<Task>? Settled(bool settle) => settle ? () => Workloads.StreaksSettledAsync(pg) : null;
async Task<Measurement> Run(string name, int connections, Func<HttpClient, Func<int, int, Task<int>>> workload, bool settle = false)
{
    if (settle)
    {
        await Workloads.RestoreStreaksAsync(pg);
    }

    return await LoadRunner.RunAsync(name, connections, duration, api, workload(http), probe, Settled(settle));
}

async Task Baseline(WorkloadRow after, Func<HttpClient, Func<int, int, Task<int>>> workload, bool settle = false)
{
    if (baselineDll is null)
    {
        return;
    }

    if (settle)
    {
        await Workloads.RestoreStreaksAsync(pg);
    }

    await using var old = await ApiServer.StartAsync(baselineDll, pg, redis, SigningKey, quiet: true);
    using var oldHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = old.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    var oldProbe = new Probe(await CpuMeter.CreateAsync(pg, () => old.Pid), probe.Statements);
    var m = after.Kanso;

    // A fresh process runs unoptimized (tier-0) code at first, and under a saturated CPU the JIT
    // takes long to replace it: a first, unmeasured run, or the baseline measures its own warm-up
    // (it did, 2.5-3x slower than the same code warmed, before this run was added).
    await LoadRunner.RunAsync(m.Name + ", baseline warming up", m.Connections, duration, old, workload(oldHttp), null, Settled(settle));
    before.Add((await LoadRunner.RunAsync(m.Name + ", baseline", m.Connections, duration, old, workload(oldHttp), oldProbe, Settled(settle)), m));
}

Func<int, int, Task<int>> Pull(HttpClient client) => async (worker, n) =>
{
    var u = (worker * 7919 + n) % pullUsers.Length;
    using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/sync/pull?cursor={Uri.EscapeDataString(deltaCursors[u])}&limit=500");
    request.Headers.Authorization = tokens.Bearer(pullUsers[u]);
    using var response = await client.SendAsync(request);
    await Workloads.EnsureAsync(response, 200);
    return 1;
};

if (Wanted("pull"))
{
    var pull = await Rounds("pull", () => Run("pull (delta of ~50 rows)", 64, Pull), (c, _) => c.Pull(dataset.RowsPerUser - 50, 500));
    rows.Add(pull);
    generators.Add(GeneratorComparison.FromDotnet(pull.Kanso));
    await Baseline(pull, Pull);

    // The same statement behind a bare Kestrel endpoint: what HTTP and JSON cost without Kanso's own work.
    await using (var bare = await ApiServer.StartAsync(
        typeof(BareServer).Assembly.Location, pg, redis, SigningKey, new Dictionary<string, string> { ["DOTNET_gcServer"] = "1", ["DOTNET_gcConcurrent"] = "0" }, mode: "bare"))
    {
        using var bareHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = bare.BaseAddress };
        var bareProbe = new Probe(await CpuMeter.CreateAsync(pg, () => bare.Pid), probe.Statements);
        var barePull = await LoadRunner.RunAsync("pull, bare Kestrel + Npgsql endpoint (same statement, no auth/limits/cursor)", 64, duration, bare, async (worker, n) =>
        {
            var u = (worker * 7919 + n) % pullUsers.Length;
            using var response = await bareHttp.GetAsync($"/pull/{pullUsers[u].Index}/{dataset.RowsPerUser - 50 + 1}/{dataset.RowsPerUser}");
            await Workloads.EnsureAsync(response, 200);
            return 1;
        }, bareProbe);
        rows.Add(new WorkloadRow(barePull, pull.Ceiling, pull.Ceiling is { } c ? [barePull.RequestsPerSecond / c.Tps] : []));
    }

    if (Environment.GetEnvironmentVariable("KANSO_BENCH_WRK") is { Length: > 0 } wrk
        && await GeneratorComparison.WrkAsync(wrk, api, pullUsers, deltaCursors, tokens, probe, 64, duration) is { } byWrk)
    {
        generators.Add(byWrk);
    }
}

foreach (var days in Wanted("stats") ? new[] { 7, 365 } : [])
{
    rows.Add(await Rounds($"stats {days} days", () => Run($"stats {days} days", 64, _ => Workloads.Stats(http, tokens, dataset, days)), (c, _) => c.Stats(days)));
}

// Update habit: each worker owns its (user, habit) pairs and carries their versions forward.
var versions = new Dictionary<(int, Guid), int>();
Func<int, int, Task<int>> Update(HttpClient client) => async (worker, n) =>
{
    var user = dataset.Users[(worker + 64 * (n % 8)) % dataset.Users.Count];
    var habit = user.Habits[worker % user.Habits.Count];
    int version;
    lock (versions)
    {
        version = versions.GetValueOrDefault((user.Index, habit), 1);
    }

    using var request = Workloads.Json(HttpMethod.Put, $"/api/v1/habits/{habit}", new { version, title = $"Habit {n}" });
    request.Headers.Authorization = tokens.Bearer(user);
    using var response = await client.SendAsync(request);
    var body = await Workloads.EnsureAsync(response, 200);
    lock (versions)
    {
        versions[(user.Index, habit)] = (int)body["version"]!;
    }

    return 1;
};

if (Wanted("update"))
{
    // The ceiling's updates move the versions on: each run starts from the stored ones.
    async Task ReloadVersionsAsync()
    {
        await using var db = new Npgsql.NpgsqlConnection(pg);
        await db.OpenAsync();
        var index = dataset.Users.ToDictionary(u => u.Id, u => u.Index);
        await using var read = new Npgsql.NpgsqlCommand("SELECT user_id, id, version FROM habits", db);
        await using var stored = await read.ExecuteReaderAsync();
        lock (versions)
        {
            versions.Clear();
            while (stored.Read())
            {
                if (index.TryGetValue(stored.GetGuid(0), out var u))
                {
                    versions[(u, stored.GetGuid(1))] = stored.GetInt32(2);
                }
            }
        }
    }

    var update = await Rounds("update habit", async () =>
    {
        await ReloadVersionsAsync();
        return await Run("update habit (PUT with version)", 64, Update);
    }, (c, _) => c.UpdateHabit());
    rows.Add(update);
    await ReloadVersionsAsync();
    await Baseline(update, Update);
}

Func<int, int, Task<int>> Create(HttpClient client) => async (worker, n) =>
{
    var user = dataset.Users[(worker * 31 + n) % dataset.Users.Count];
    var habit = user.Habits[n % user.Habits.Count];
    using var request = Workloads.Json(HttpMethod.Post, "/api/v1/entries", new { id = Guid.NewGuid(), habit_id = habit, completion_date = DateTime.UtcNow.ToString("O"), value = 1 });
    request.Headers.Authorization = tokens.Bearer(user);
    using var response = await client.SendAsync(request);
    await Workloads.EnsureAsync(response, 201);
    return 1;
};

if (Wanted("create"))
{
    var create = await Rounds("create entry", () => Run("create entry", 64, Create, settle: true), (c, m) => c.CreateEntry(Workloads.StreakShares(m)));
    rows.Add(create);
    await Baseline(create, Create, settle: true);
}

if (Wanted("push"))
{
    Func<int, int, Task<int>> Push(HttpClient client) => (worker, n) =>
        Workloads.PushEntriesAsync(client, tokens, dataset.Users[(worker * 131 + n) % dataset.Users.Count], 50);
    var push = await Rounds("push of 50", () => Run("push of 50 mutations (per mutation)", 16, Push, settle: true), (c, m) => c.Push(50, Workloads.StreakShares(m)));
    rows.Add(push);
    await Baseline(push, Push, settle: true);
}

var initialSync = await Workloads.InitialSyncAsync(http, tokens.For(dataset.BigUser), rounds: 5);
var peakRssMb = api.PeakRssMegabytes();
Curves? curves = null;
if (scaling && Wanted("curves"))
{
    await Workloads.RestoreStreaksAsync(pg);
    curves = await Scaling.RunAsync(http, tokens, dataset, api, probe);
}

var report = Report.Render(rows, initialSync, peakRssMb, dataset, seconds, curves, generators, before);
Console.WriteLine(report);

// bench/live.sh writes its own section at the end of the same file: keep it.
const string LiveSection = "## Live sync and compression (issue 15)";
var previous = File.Exists(results) ? await File.ReadAllTextAsync(results) : "";
var live = previous.IndexOf(LiveSection, StringComparison.Ordinal) is var at and >= 0 ? "\n" + previous[at..] : "";
await File.WriteAllTextAsync(results, report + live);
return 0;

static string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : throw new InvalidOperationException($"{name} is not set (run bench/run.sh).");

namespace Kanso.Bench
{
    /// <summary>
    /// A seeded account. Ids are made from the user's index (and the habit's), so the pgbench scripts
    /// of the ceilings can name the same rows: see <see cref="BenchIds"/>.
    /// </summary>
    internal sealed record BenchUser(int Index, Guid Id, string Email, string Timezone, List<Guid> Habits, int? EntriesPerHabit = null)
    {
        public static BenchUser Create(int index, string email, string timezone, int habits, int? entriesPerHabit = null) =>
            new(index, BenchIds.User(index), email, timezone, Enumerable.Range(0, habits).Select(h => BenchIds.Habit(index, h)).ToList(), entriesPerHabit);

        /// <summary>Rows a full sync of this account returns (habits and entries).</summary>
        public int Rows(int entriesPerHabit) => Habits.Count * (1 + (EntriesPerHabit ?? entriesPerHabit));
    }

    /// <summary>The ids of seeded users and habits, and the same rule in SQL for pgbench.</summary>
    internal static class BenchIds
    {
        public static Guid User(int n) => Guid.Parse($"00000000-0000-4000-8000-{n:x12}");

        public static Guid Habit(int n, int h) => Guid.Parse($"{h:x8}-0001-4000-8000-{n:x12}");

        public static Guid Session(int n) => Guid.Parse($"00000000-0002-4000-8000-{n:x12}");

        /// <summary>
        /// The same ids as SQL expressions of pgbench variables or numbers. Written out rather than
        /// wrapped in SQL functions: a function call the planner does not inline would run as a
        /// statement of its own and weigh on the ceiling.
        /// </summary>
        public static string UserSql(string n) => $"('00000000-0000-4000-8000-' || lpad(to_hex({n}::integer), 12, '0'))::uuid";

        public static string HabitSql(string n, string h) => $"(lpad(to_hex({h}::integer), 8, '0') || '-0001-4000-8000-' || lpad(to_hex({n}::integer), 12, '0'))::uuid";

    }

    internal sealed record Dataset(
        List<BenchUser> Users, BenchUser BigUser, int RowsPerUser, long TotalEntries, TimeSpan SeedTime, List<BenchUser> Accounts, long DatabaseBytes);

    internal sealed record Measurement(string Name, int Connections, double RequestsPerSecond, double OpsPerSecond, double P50Ms, double P99Ms, long Requests, long Errors, double RssMb)
    {
        /// <summary>CPU seconds each part used during the measured part (when a probe was given).</summary>
        public CpuSplit Cpu { get; init; }

        /// <summary>Statements the database ran during the measured part, per request (pg_stat_statements).</summary>
        public double StatementsPerRequest { get; init; }

        public List<(long Calls, double Ms, string Query)> Statements { get; init; } = [];

        /// <summary>Seconds the left-behind work took after the load stopped (counted in the rates).</summary>
        public double SettleSeconds { get; init; }
    }

    /// <summary>Per 1,000 requests: the worker's transactions, the habits it stored; and per 1,000 stored, those that changed.</summary>
    internal readonly record struct StreakShares(int JobPermille, int StoredPermille, int ChangedPermille);

    /// <summary>What a load run reads besides latencies: CPU per process and statements.</summary>
    internal sealed record Probe(CpuMeter Cpu, StatementCounter Statements);

    /// <summary>A workload's row: the round with the median ratio, and every round's ratio.</summary>
    internal sealed record WorkloadRow(Measurement Kanso, CeilingResult? Ceiling, IReadOnlyList<double> RoundRatios);

    internal sealed record InitialSync(int Rows, int Pages, double MedianSeconds, double BestSeconds);

    internal sealed class Tokens(string key)
    {
        private readonly Dictionary<Guid, string> _cache = [];
        private readonly Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler _handler = new();
        private readonly Microsoft.IdentityModel.Tokens.SigningCredentials _credentials =
            new(new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), "HS256");

        public string For(BenchUser user)
        {
            lock (_cache)
            {
                if (!_cache.TryGetValue(user.Id, out var token))
                {
                    token = _handler.CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
                    {
                        Claims = new Dictionary<string, object> { ["sub"] = user.Id.ToString(), ["email"] = user.Email, ["sid"] = BenchIds.Session(user.Index).ToString() },
                        Issuer = "kanso",
                        Audience = "kanso-app",
                        Expires = DateTime.UtcNow.AddHours(6),
                        SigningCredentials = _credentials,
                    });
                    _cache[user.Id] = token;
                }

                return token;
            }
        }

        public AuthenticationHeaderValue Bearer(BenchUser user) => new("Bearer", For(user));
    }

    internal static class Workloads
    {
        /// <summary>Weekly stats of the last <paramref name="days"/> days, for the users in turn.</summary>
        public static Func<int, int, Task<int>> Stats(HttpClient http, Tokens tokens, Dataset dataset, int days)
        {
            var today = DateTime.UtcNow.Date;
            var start = today.AddDays(-(days - 1)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var end = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            return async (worker, n) =>
            {
                var user = dataset.Users[(worker * 17 + n) % dataset.Users.Count];
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/stats/weekly?start_date={start}&end_date={end}");
                request.Headers.Authorization = tokens.Bearer(user);
                request.Headers.Add("X-Timezone", user.Timezone);
                using var response = await http.SendAsync(request);
                await EnsureAsync(response, 200);
                return 1;
            };
        }

        /// <summary>A push of <paramref name="count"/> new entries on the user's habits; all must apply.</summary>
        public static async Task<int> PushEntriesAsync(HttpClient http, Tokens tokens, BenchUser user, int count)
        {
            var mutations = Enumerable.Range(0, count).Select(i => new
            {
                mutation_id = Guid.NewGuid(),
                op = "upsert_entry",
                id = Guid.NewGuid(),
                version = 0,
                data = new { habit_id = user.Habits[i % user.Habits.Count], completion_date = DateTime.UtcNow.ToString("O"), value = 1 },
            }).ToArray();
            using var request = Json(HttpMethod.Post, "/api/v1/sync/push", new { mutations });
            request.Headers.Authorization = tokens.Bearer(user);
            using var response = await http.SendAsync(request);
            var body = await EnsureAsync(response, 200);
            var applied = body["results"]!.AsArray().Count(r => (string?)r!["status"] == "applied");
            if (applied != count)
            {
                throw new InvalidOperationException($"push applied {applied} of {count}: {body.ToJsonString()[..Math.Min(500, body.ToJsonString().Length)]}");
            }

            return count;
        }

        /// <summary>Marks every habit for a recompute and waits for the worker's sweeps to do them all.</summary>
        public static async Task RecomputeAllStreaksAsync(string postgres)
        {
            var sw = Stopwatch.StartNew();
            await using (var db = new Npgsql.NpgsqlConnection(postgres))
            {
                await db.OpenAsync();
                await using var mark = new Npgsql.NpgsqlCommand("UPDATE habits SET streak_dirty = true", db) { CommandTimeout = 600 };
                await mark.ExecuteNonQueryAsync();
            }

            await StreaksSettledAsync(postgres, TimeSpan.FromMinutes(20));
            Console.WriteLine($"Streaks of every habit recomputed by the sweeps in {sw.Elapsed.TotalSeconds:0} s");
        }

        /// <summary>
        /// Back to the steady state before a write workload runs, untimed: the habits a ceiling's
        /// streak jobs gave a checkpoint of no real habit, or left dirty, are recomputed by the API's
        /// worker first, so one round's ceiling does not add work to the next round's API run.
        /// </summary>
        public static async Task RestoreStreaksAsync(string postgres)
        {
            await using (var db = new Npgsql.NpgsqlConnection(postgres))
            {
                await db.OpenAsync();
                await using var reset = new Npgsql.NpgsqlCommand(
                    "UPDATE habits SET streak_dirty = true, streak_checkpoint = NULL WHERE streak_checkpoint->>'fp' = '" + Ceiling.FakeFingerprint + "'", db);
                var habits = await reset.ExecuteNonQueryAsync();
                Console.WriteLine($"   before the run: {habits} habits with a ceiling's checkpoint recomputed");
            }

            await StreaksSettledAsync(postgres, TimeSpan.FromMinutes(5));
        }

        /// <summary>Waits (bounded) until the streak worker has caught up with the writes, so the next workload does not pay for them.</summary>
        public static async Task StreaksSettledAsync(string postgres, TimeSpan? limit = null)
        {
            await using var db = new Npgsql.NpgsqlConnection(postgres);
            await db.OpenAsync();
            await using var dirty = new Npgsql.NpgsqlCommand("SELECT count(*) FROM habits WHERE streak_dirty", db);
            var deadline = Stopwatch.GetTimestamp() + (long)((limit ?? TimeSpan.FromMinutes(1)).TotalSeconds * Stopwatch.Frequency);
            while ((long)(await dirty.ExecuteScalarAsync())! > 0 && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(100);
            }
        }

        /// <summary>
        /// What the streak worker did during the run, for the ceiling to do the same: habits stored per
        /// request (‰), and of those the share (‰) whose streaks changed (and took a change number).
        /// </summary>
        public static StreakShares StreakShares(Measurement m)
        {
            long Calls(string fragment) => m.Statements.Where(s => s.Query.Contains(fragment, StringComparison.Ordinal)).Sum(s => s.Calls);
            var changed = Calls("current_streak = $");
            var unchanged = Calls("SET streak_dirty = false, streak_due_at");
            var jobs = Calls("day_start_minutes FROM users WHERE id = $1 FOR NO KEY UPDATE");
            double Per(long n) => m.Requests == 0 ? 0 : 1000.0 * n / m.Requests;
            return new StreakShares(
                (int)Math.Round(Per(jobs)),
                (int)Math.Round(Per(changed + unchanged)),
                changed + unchanged == 0 ? 1000 : (int)Math.Round(1000.0 * changed / (changed + unchanged)));
        }

        public static HttpRequestMessage Json(HttpMethod method, string url, object body) =>
            new(method, url) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };

        public static async Task<JsonNode> EnsureAsync(HttpResponseMessage response, int status)
        {
            var text = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode != status)
            {
                throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {status}, got {(int)response.StatusCode}: {text[..Math.Min(400, text.Length)]}");
            }

            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
        }

        /// <summary>Pages the initial sync until <paramref name="rows"/> rows are behind the cursor.</summary>
        public static async Task<string> CursorBeforeEndAsync(HttpClient http, string token, int rows)
        {
            string? cursor = null;
            var seen = 0;
            while (seen < rows)
            {
                var limit = Math.Min(1000, rows - seen);
                var body = await PullAsync(http, token, cursor, limit);
                seen += body["habits"]!.AsArray().Count + body["entries"]!.AsArray().Count;
                cursor = (string)body["cursor"]!;
                if (!(bool)body["has_more"]!)
                {
                    break;
                }
            }

            return cursor!;
        }

        public static async Task<JsonNode> PullAsync(HttpClient http, string token, string? cursor, int limit)
        {
            var url = cursor is null ? $"/api/v1/sync/pull?limit={limit}" : $"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}&limit={limit}";
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            return await EnsureAsync(response, 200);
        }

        /// <summary>A new device's first sync: every live row of a large account, pages of 1,000.</summary>
        public static async Task<InitialSync> InitialSyncAsync(HttpClient http, string token, int rounds)
        {
            var times = new List<double>();
            int rowCount = 0, pages = 0;
            for (var r = 0; r < rounds; r++)
            {
                var sw = Stopwatch.StartNew();
                string? cursor = null;
                rowCount = 0;
                pages = 0;
                while (true)
                {
                    var body = await PullAsync(http, token, cursor, 1000);
                    pages++;
                    rowCount += body["habits"]!.AsArray().Count + body["entries"]!.AsArray().Count;
                    cursor = (string)body["cursor"]!;
                    if (!(bool)body["has_more"]!)
                    {
                        break;
                    }
                }

                times.Add(sw.Elapsed.TotalSeconds);
            }

            times.Sort();
            return new InitialSync(rowCount, pages, times[times.Count / 2], times[0]);
        }
    }

    internal static class LoadRunner
    {
        /// <summary>
        /// <paramref name="connections"/> workers each send one request at a time for the warm-up and
        /// then the measured duration; latencies are those of the measured part.
        /// </summary>
        /// <param name="settle">
        /// Work the requests leave behind (the streak worker's recomputes): awaited after the load
        /// stops and counted in the run — its time in the denominator of req/s, its statements and CPU
        /// in theirs — so a write is measured with everything it causes.
        /// </param>
        public static async Task<Measurement> RunAsync(
            string name, int connections, TimeSpan duration, ApiServer api, Func<int, int, Task<int>> operation, Probe? probe = null, Func<Task>? settle = null)
        {
            Console.WriteLine($"-> {name}: {connections} connections, {duration.TotalSeconds:0}s (+3s warm-up)");
            var warmUpEnd = Stopwatch.GetTimestamp() + (long)(3 * Stopwatch.Frequency);
            var end = warmUpEnd + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var latencies = new List<double>[connections];
            var ops = new long[connections];
            var errors = new long[connections];
            var rssSamples = new List<double>();
            CpuSplit cpuAtStart = default;
            var probing = probe is null ? Task.CompletedTask : Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
                await probe.Statements.ResetAsync();
                cpuAtStart = probe.Cpu.Read();
            });
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    rssSamples.Add(api.RssMegabytes());
                    await Task.Delay(250);
                }
            });

            var workers = Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
            {
                latencies[w] = new List<double>(4096);
                var n = 0;
                while (true)
                {
                    var started = Stopwatch.GetTimestamp();
                    if (started >= end)
                    {
                        return;
                    }

                    int done;
                    try
                    {
                        done = await operation(w, n++);
                    }
                    catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TaskCanceledException)
                    {
                        if (Interlocked.Increment(ref errors[w]) == 1 && w == 0)
                        {
                            Console.WriteLine($"   error: {ex.Message}");
                        }

                        continue;
                    }

                    if (started >= warmUpEnd)
                    {
                        latencies[w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        ops[w] += done;
                    }
                }
            })).ToArray();
            await Task.WhenAll(workers);
            var settling = Stopwatch.StartNew();
            if (settle is not null)
            {
                await settle();
            }

            var settleSeconds = settle is null ? 0 : settling.Elapsed.TotalSeconds;
            var cpuUsed = probe is null ? default : probe.Cpu.Read() - cpuAtStart;
            var statements = probe is null ? (0L, new List<(long, double, string)>()) : await probe.Statements.ReadAsync();
            await probing;
            sampling.Cancel();
            await sampler;

            var all = latencies.SelectMany(l => l).ToArray();
            Array.Sort(all);
            var seconds = duration.TotalSeconds + settleSeconds;
            var m = new Measurement(
                name,
                connections,
                all.Length / seconds,
                ops.Sum() / seconds,
                Percentile(all, 0.50),
                Percentile(all, 0.99),
                all.Length,
                errors.Sum(),
                rssSamples.Count == 0 ? 0 : rssSamples.Max())
            {
                Cpu = cpuUsed,
                StatementsPerRequest = all.Length == 0 ? 0 : statements.Item1 / (double)all.Length,
                Statements = statements.Item2,
                SettleSeconds = settleSeconds,
            };
            if (probe is not null && all.Length > 0)
            {
                foreach (var (calls, ms, query) in statements.Item2.Take(8))
                {
                    Console.WriteLine($"     {calls / (double)all.Length,6:0.00}/req {ms / calls,7:0.000} ms  {Regex.Replace(query, @"\s+", " ")[..Math.Min(110, Regex.Replace(query, @"\s+", " ").Length)]}");
                }
            }
            Console.WriteLine($"   {m.RequestsPerSecond:0} req/s, {m.OpsPerSecond:0} ops/s, p50 {m.P50Ms:0.0} ms, p99 {m.P99Ms:0.0} ms, errors {m.Errors}, RSS {m.RssMb:0} MB"
                + (settle is null ? "" : $"; the left-behind work settled {settleSeconds:0.0} s after the load"));
            return m;
        }

        private static double Percentile(double[] sorted, double p) =>
            sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }
}
