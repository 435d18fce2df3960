using System.Globalization;
using System.Text;

namespace Kanso.Bench;

/// <summary>bench/RESULTS.md: each workload against its ceiling measured in the same run, the targets, the curves.</summary>
internal static class Report
{
    private static string _loadAtStart = "n/a";

    /// <summary>Reads the load average before anything runs (call at start).</summary>
    public static void NoteStart() => _loadAtStart = LoadAverage();

    public static string Render(List<WorkloadRow> rows, InitialSync initial, double peakRssMb, Dataset dataset, int seconds, Curves? curves, List<GeneratorRun> generators, List<(Measurement Before, Measurement After)> baseline)
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.AppendLine("# Kanso benchmark results");
        s.AppendLine();
        s.AppendLine(inv, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/run.sh` at commit `{Environment.GetEnvironmentVariable("KANSO_BENCH_COMMIT") ?? "unknown"}`.");
        s.AppendLine(inv, $"Machine: {Environment.ProcessorCount} cores ({CpuModel()}), {MemoryGb():0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; load average (1 min) {_loadAtStart} at the start, {LoadAverage()} at the end.");
        s.AppendLine(inv, $"The load generator (.NET, HttpClient), the API (Release, JWT checking and Redis rate limiting on with raised limits), Redis and {Environment.GetEnvironmentVariable("KANSO_BENCH_DATABASE") ?? "PostgreSQL 15"} share these cores over loopback.");
        s.AppendLine(inv, $"Dataset: {dataset.Users.Count:N0} users × 10 habits × 200 entries over a year, plus accounts of {string.Join(" / ", dataset.Accounts.Select(a => a.Rows(0).ToString("N0", inv)))} rows ({dataset.TotalEntries:N0} entries); seeded in {dataset.SeedTime.TotalSeconds:0} s; database {dataset.DatabaseBytes / 1048576.0:N0} MB after seeding. Each workload: 3 s warm-up, {seconds} s measured, in {Environment.GetEnvironmentVariable("KANSO_BENCH_ROUNDS") ?? "6"} rounds.");
        s.AppendLine();
        s.AppendLine("**Ceiling**: `pgbench` (prepared statements, as the API's auto-prepare) runs, on the same data and right after the workload, with the API process stopped (SIGSTOP), the statements one request causes — for entry writes including the streak worker's job — in the same round trips, at its best client count (of 4, 8 and 16, found once after the first API run and not counted). **ratio = Kanso ÷ ceiling** (requests per second over transactions per second): each round runs the API and then its ceiling; the row's req/s, ceiling and ratio are pooled over all rounds (every request over every second the API ran, settling included; every transaction over every second pgbench ran), p50, p99 and the CPU split are those of the round with the median ratio, and every round's own ratio is listed beside it: what the HTTP layer, authentication, rate limiting, JSON and the API's own work leave of what the database can do on this machine. Absolute numbers do not travel between machines; the ratio is meant to.");
        s.AppendLine();
        s.AppendLine("| workload | conns | req/s | p50 ms | p99 ms | ceiling tx/s (clients) | **ratio** | ratio per round | statements per request: API / ceiling | CPU of the run (API run) | CPU ms per request: PG / API / load |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|");
        foreach (var (m, c, perRound) in rows)
        {
            var per = m.Cpu.Per(m.Requests);
            s.AppendLine(inv, $"| {m.Name} | {m.Connections} | {m.RequestsPerSecond:N0} | {m.P50Ms:0.0} | {m.P99Ms:0.0} | {(c is null ? "n/a" : $"{c.Tps:N0} ({c.Clients})")} | **{(c is null ? "n/a" : (m.RequestsPerSecond / c.Tps).ToString("0.00", inv))}** | {string.Join(" · ", perRound.Select(r => r.ToString("0.00", inv)))} | {Statements(m.StatementsPerRequest)} / {(c is null ? "n/a" : Statements(c.StatementsPerTx))} | {m.Cpu.Shares()} | {1000 * per.Postgres:0.00} / {1000 * per.Api:0.00} / {1000 * per.LoadGenerator:0.00} |");
        }

        s.AppendLine();
        s.AppendLine("CPU of the ceilings (pgbench counted as the load generator):");
        s.AppendLine();
        s.AppendLine("| ceiling | tx/s | CPU ms per transaction: PG / pgbench | script |");
        s.AppendLine("|---|---:|---:|---|");
        foreach (var c in rows.Select(r => r.Ceiling).OfType<CeilingResult>().Distinct())
        {
            s.AppendLine(inv, $"| {c.Name} | {c.Tps:N0} | {1000 * c.CpuPerTx.Postgres:0.00} / {1000 * c.CpuPerTx.LoadGenerator:0.00} | `{Path.GetFileName(c.Script)}` |");
        }

        s.AppendLine();
        s.AppendLine(inv, $"Errors: {rows.Sum(r => r.Kanso.Errors)}. Initial sync of {initial.Rows:N0} rows in {initial.Pages} pages of 1,000: median {initial.MedianSeconds:0.00} s, best {initial.BestSeconds:0.00} s. Peak RSS of the API process (VmHWM) over the run: {peakRssMb:0} MB.");
        s.AppendLine();
        if (baseline.Count > 0)
        {
            s.AppendLine(inv, $"### Before and after, same run (baseline: `{Environment.GetEnvironmentVariable("KANSO_BENCH_BASELINE")}`)");
            s.AppendLine();
            s.AppendLine("The API built at the baseline commit ran each workload right after this commit's API, on the same database (same data, migrations of this commit applied).");
            s.AppendLine();
            s.AppendLine("| workload | before req/s | after req/s | after ÷ before | p99 ms before → after | statements per request before → after | CPU ms per request, PG / API, before → after |");
            s.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var (b, a) in baseline)
            {
                var (pb, pa) = (b.Cpu.Per(b.Requests), a.Cpu.Per(a.Requests));
                s.AppendLine(inv, $"| {a.Name} | {b.RequestsPerSecond:N0} | {a.RequestsPerSecond:N0} | {a.RequestsPerSecond / b.RequestsPerSecond:0.00} | {b.P99Ms:0} → {a.P99Ms:0} | {Statements(b.StatementsPerRequest)} → {Statements(a.StatementsPerRequest)} | {1000 * pb.Postgres:0.00} / {1000 * pb.Api:0.00} → {1000 * pa.Postgres:0.00} / {1000 * pa.Api:0.00} |");
            }

            s.AppendLine();
        }

        if (generators.Count > 1)
        {
            s.AppendLine("### Which load generator");
            s.AppendLine();
            s.AppendLine("The pull workload (64 connections) driven by each generator, on the same API and data:");
            s.AppendLine();
            s.AppendLine("| generator | req/s | p50 ms | p99 ms | generator CPU ms per request | CPU of the run |");
            s.AppendLine("|---|---:|---:|---:|---:|---|");
            foreach (var g in generators)
            {
                s.AppendLine(inv, $"| {g.Generator} | {g.RequestsPerSecond:N0} | {g.P50Ms:0.0} | {g.P99Ms:0.0} | {g.LoadCpuMsPerRequest:0.000} | {g.Cpu.Shares()} |");
            }

            s.AppendLine();
        }

        s.AppendLine("## Against the targets");
        s.AppendLine();
        s.AppendLine("| target | measured | met |");
        s.AppendLine("|---|---|---|");
        void Target(string target, string measured, bool met) => s.AppendLine(inv, $"| {target} | {measured} | {(met ? "yes" : "**no**")} |");
        (Measurement M, double Ratio) Row(string prefix)
        {
            var (m, c, _) = rows.FirstOrDefault(r => r.Kanso.Name.StartsWith(prefix, StringComparison.Ordinal)) ?? new WorkloadRow(null!, null, []);
            m ??= new Measurement(prefix, 0, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0, 0);
            return (m, c is null ? double.NaN : m.RequestsPerSecond / c.Tps);
        }

        var pull = Row("pull");
        Target("pull, ~50-row delta, 64 connections: ≥ 0.6 × ceiling, p99 ≤ 100 ms", $"{pull.Ratio:0.00} ×, p99 {pull.M.P99Ms:0} ms", pull.Ratio >= 0.6 && pull.M.P99Ms <= 100);
        foreach (var name in new[] { "create entry", "update habit" })
        {
            var w = Row(name);
            Target($"{name}, 64 connections: ≥ 0.6 × ceiling, p99 ≤ 150 ms", $"{w.Ratio:0.00} ×, p99 {w.M.P99Ms:0} ms", w.Ratio >= 0.6 && w.M.P99Ms <= 150);
        }

        var push = Row("push");
        var create = Row("create entry");
        Target("push of 50: ≥ 0.5 × ceiling and ≥ 3 × create entry's rows/s", $"{push.Ratio:0.00} ×; {push.M.OpsPerSecond:N0} rows/s = {push.M.OpsPerSecond / create.M.OpsPerSecond:0.0} × create entry", push.Ratio >= 0.5 && push.M.OpsPerSecond >= 3 * create.M.OpsPerSecond);
        var week = Row("stats 7");
        var year = Row("stats 365");
        Target("stats 7 / 365 days: ≥ 0.7 × ceiling", $"{week.Ratio:0.00} × / {year.Ratio:0.00} ×", week.Ratio >= 0.7 && year.Ratio >= 0.7);
        if (curves is not null)
        {
            var small = curves.Accounts.First();
            var large = curves.Accounts.Last();
            var factor = large.DeltaPull.P50Ms / small.DeltaPull.P50Ms;
            Target($"delta pull p50 at {large.Rows:N0} rows within 1.5 × of {small.Rows:N0} rows", $"{large.DeltaPull.P50Ms:0.0} vs {small.DeltaPull.P50Ms:0.0} ms ({factor:0.00} ×)", factor <= 1.5);
        }

        Target("peak RSS under load ≤ 250 MB", $"{peakRssMb:0} MB", peakRssMb <= 250);

        if (curves is not null)
        {
            s.AppendLine();
            s.AppendLine(inv, $"## Scaling curves ({curves.Seconds} s measured each)");
            s.AppendLine();
            s.AppendLine("| account | delta pull (~50 rows, 8 conns) req/s | p50 ms | p99 ms | initial sync (pages of 1,000) median s |");
            s.AppendLine("|---:|---:|---:|---:|---:|");
            foreach (var a in curves.Accounts)
            {
                s.AppendLine(inv, $"| {a.Rows:N0} rows | {a.DeltaPull.RequestsPerSecond:N0} | {a.DeltaPull.P50Ms:0.0} | {a.DeltaPull.P99Ms:0.0} | {a.Initial.MedianSeconds:0.00} ({a.Initial.Pages} pages) |");
            }

            s.AppendLine();
            s.AppendLine("| push batch (16 conns) | pushes/s | mutations/s | p50 ms | p99 ms | statements per mutation |");
            s.AppendLine("|---:|---:|---:|---:|---:|---:|");
            foreach (var (batch, m) in curves.Pushes)
            {
                s.AppendLine(inv, $"| {batch} | {m.RequestsPerSecond:N0} | {m.OpsPerSecond:N0} | {m.P50Ms:0.0} | {m.P99Ms:0.0} | {Statements(m.StatementsPerRequest / batch)} |");
            }

            s.AppendLine();
            s.AppendLine("| stats range (64 conns) | req/s | p50 ms | p99 ms |");
            s.AppendLine("|---:|---:|---:|---:|");
            foreach (var (days, m) in curves.Stats)
            {
                s.AppendLine(inv, $"| {days} days | {m.RequestsPerSecond:N0} | {m.P50Ms:0.0} | {m.P99Ms:0.0} |");
            }
        }

        return s.ToString();
    }

    private static string Statements(double n) => n <= 0 ? "n/a" : n.ToString("0.0", CultureInfo.InvariantCulture);

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }

    private static double MemoryGb() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
}
