using System.Globalization;
using System.Text;

namespace Kanso.Bench;

/// <summary>
/// KANSO_BENCH_OBSERVABILITY=compare: what the instrumentation costs. One API process per
/// configuration over the same database and Redis, idle while not measured: observability off (no
/// /metrics, no tracer); metrics only (scraped every 5 s); metrics and every span exported over OTLP
/// to a local sink; the same with 10% of traces sampled; and the latter with the one-line-per-request
/// JSON log (read and discarded). The pull workload runs against each in turn, round after round
/// (KANSO_BENCH_ROUNDS, 3 by default), so drift of a shared machine hits all alike; each
/// configuration is compared with "off" of the same round. Writes bench/OBSERVABILITY.md.
/// </summary>
internal static class ObservabilityComparison
{
    public static async Task<int> RunAsync(string apiDll, string pg, string redis, string signingKey, Tokens tokens, BenchUser[] pullUsers, string[] deltaCursors, TimeSpan duration)
    {
        using var sink = new OtlpSink();
        var on = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        };
        var sampled = new Dictionary<string, string>(on)
        {
            ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio",
            ["OTEL_TRACES_SAMPLER_ARG"] = "0.1",
        };
        var configs = new (string Name, Dictionary<string, string> Settings, bool Scrape)[]
        {
            ("off (Metrics__Enabled=false, no OTLP endpoint)", new() { ["Metrics__Enabled"] = "false" }, false),
            ("metrics only (/metrics scraped every 5 s)", [], true),
            ("metrics + every trace exported over OTLP", on, true),
            ("metrics + 10% of traces exported", sampled, true),
            ("metrics + 10% of traces + request log", new(sampled) { ["Logging__LogLevel__Kanso.Requests"] = "Information" }, true),
        };
        var rounds = int.Parse(Environment.GetEnvironmentVariable("KANSO_BENCH_ROUNDS") ?? "3", CultureInfo.InvariantCulture);

        var servers = new List<ApiServer>();
        var clients = new List<HttpClient>();
        using var stopScraping = new CancellationTokenSource();
        var scrapers = new List<Task>();
        try
        {
            foreach (var config in configs)
            {
                var server = await ApiServer.StartAsync(apiDll, pg, redis, signingKey, config.Settings, quiet: true);
                servers.Add(server);
                var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
                clients.Add(client);
                if (config.Scrape)
                {
                    scrapers.Add(ScrapeAsync(client, stopScraping.Token));
                }
            }

            var loadBefore = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            var results = configs.Select(_ => new List<Measurement>()).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                for (var c = 0; c < configs.Length; c++)
                {
                    var http = clients[c];
                    results[c].Add(await LoadRunner.RunAsync($"pull, {configs[c].Name}, round {round + 1}", 64, duration, servers[c], async (worker, n) =>
                    {
                        var u = (worker * 7919 + n) % pullUsers.Length;
                        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/sync/pull?cursor={Uri.EscapeDataString(deltaCursors[u])}&limit=500");
                        request.Headers.Authorization = tokens.Bearer(pullUsers[u]);
                        using var response = await http.SendAsync(request);
                        await Workloads.EnsureAsync(response, 200);
                        return 1;
                    }));
                }
            }

            var load = $"{loadBefore} before, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} after";
            var report = Render(configs.Select(c => c.Name).ToArray(), results, duration, sink.BytesReceived, load);
            Console.WriteLine(report);
            var path = Path.Combine(Path.GetDirectoryName(Environment.GetEnvironmentVariable("KANSO_BENCH_RESULTS")!)!, "OBSERVABILITY.md");
            await File.WriteAllTextAsync(path, report);
            return 0;
        }
        finally
        {
            await stopScraping.CancelAsync();
            await Task.WhenAll(scrapers);
            foreach (var client in clients)
            {
                client.Dispose();
            }

            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    private static async Task ScrapeAsync(HttpClient http, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var response = await http.GetAsync("/metrics", ct);
                await response.Content.ReadAsStringAsync(ct);
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private static string Render(string[] names, List<Measurement>[] results, TimeSpan duration, long otlpBytes, string load)
    {
        var inv = CultureInfo.InvariantCulture;
        var rounds = results[0].Count;
        var sb = new StringBuilder();
        sb.AppendLine("# What observability costs: pull req/s with it off and on");
        sb.AppendLine();
        sb.AppendLine(inv, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `KANSO_BENCH_OBSERVABILITY=compare bench/run.sh`: {Environment.ProcessorCount} cores, {duration.TotalSeconds:0} s per run (+3 s warm-up), 64 connections, pull of a ~50-row delta, the API processes measured in turn, {rounds} rounds. \"vs off\" is the median over the rounds of req/s divided by \"off\" of the same round. Exported over OTLP during the run: {otlpBytes / 1024.0 / 1024.0:0.0} MiB. Load average (1 min): {load}; a load far above the core count means other work shared the machine and the numbers are noise.");
        sb.AppendLine();
        sb.AppendLine("| configuration | req/s by round | vs off (median) | p50 ms | p99 ms |");
        sb.AppendLine("|---|---|---:|---:|---:|");
        for (var c = 0; c < names.Length; c++)
        {
            var r = results[c];
            var ratios = Enumerable.Range(0, rounds).Select(i => r[i].RequestsPerSecond / results[0][i].RequestsPerSecond).Order().ToArray();
            var median = ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[ratios.Length / 2 - 1] + ratios[ratios.Length / 2]) / 2;
            sb.AppendLine(inv, $"| {names[c]} | {string.Join(" / ", r.Select(m => m.RequestsPerSecond.ToString("0", inv)))} | {median:0.00} | {r.Average(m => m.P50Ms):0.0} | {r.Average(m => m.P99Ms):0.0} |");
        }

        return sb.ToString();
    }
}
