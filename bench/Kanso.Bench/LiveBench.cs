using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using Npgsql;

namespace Kanso.Bench;

/// <summary>
/// Live sync and compression (issue 15): commit-to-event latency on one instance and across two,
/// 10,000 idle event streams (memory, and pull req/s with them open), and a 1,000-row pull page's
/// bytes and req/s with and without compression. Run through bench/live.sh.
/// </summary>
internal static class LiveBench
{
    private const string SigningKey = "kanso-benchmark-signing-key-0123456789-abcdef";

    public static async Task<int> RunAsync(string pg, string redis, string apiDll, string results, int seconds, int userCount)
    {
        var streamsWanted = int.Parse(Environment.GetEnvironmentVariable("KANSO_BENCH_STREAMS") ?? "10000", CultureInfo.InvariantCulture);
        var samples = int.Parse(Environment.GetEnvironmentVariable("KANSO_BENCH_LATENCY_SAMPLES") ?? "300", CultureInfo.InvariantCulture);
        var parts = (Environment.GetEnvironmentVariable("KANSO_BENCH_PARTS") ?? "latency,compression,streams").Split(',');
        await using var first = await ApiServer.StartAsync(apiDll, pg, redis, SigningKey);
        var a = first;
        await using var b = await ApiServer.StartAsync(apiDll, pg, redis, SigningKey);
        Console.WriteLine($"API A pid {a.Pid} on {a.BaseAddress}, API B pid {b.Pid} on {b.BaseAddress}");
        var dataset = await Seeder.SeedAsync(pg, userCount, habitsPerUser: 10, entriesPerHabit: 100);
        var tokens = new Tokens(SigningKey);
        var duration = TimeSpan.FromSeconds(seconds);
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 20_000, PooledConnectionLifetime = TimeSpan.FromMinutes(30), AutomaticDecompression = System.Net.DecompressionMethods.None };
        using var httpA = new HttpClient(handler, disposeHandler: false) { BaseAddress = a.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var httpB = new HttpClient(handler, disposeHandler: false) { BaseAddress = b.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var report = new StringBuilder();
        var loadAtStart = LoadAverage();

        // 1. Commit-to-event latency: a habit update on A, the event on a stream on A or on B.
        var (same, cross) = await LatencyAsync(httpA, httpB, dataset.Users[0], tokens, samples);

        // 2. Compression: one 1,000-row page (10 habits + 990 entries) per encoding, then req/s of such pages.
        var pageUsers = dataset.Users.Take(64).ToArray();
        var bytes = new Dictionary<string, long>();
        foreach (var encoding in new[] { "identity", "gzip", "br" })
        {
            using var response = await http(httpA, pageUsers[0], "/api/v1/sync/pull?limit=1000", encoding);
            bytes[encoding] = (await response.Content.ReadAsByteArrayAsync()).LongLength;
        }

        var pageRows = new List<Measurement>();
        foreach (var encoding in new[] { "identity", "gzip", "br" })
        {
            pageRows.Add(await LoadRunner.RunAsync($"pull page of 1,000 rows, {encoding}", 16, duration, a, async (worker, n) =>
            {
                using var response = await http(httpA, pageUsers[(worker * 7 + n) % pageUsers.Length], "/api/v1/sync/pull?limit=1000", encoding);
                await response.Content.ReadAsByteArrayAsync();
                return response.IsSuccessStatusCode ? 1 : throw new InvalidOperationException($"pull answered {(int)response.StatusCode}");
            }));
        }

        // 3. Idle streams, on instance C started for them: its RSS after a few requests, then with the
        // streams open (both after a pause, so what is measured is what idle streams keep). Then the
        // pull benchmark against C with the streams open, and again after they are closed.
        await using var c = await ApiServer.StartAsync(apiDll, pg, redis, SigningKey);
        using var httpC = new HttpClient(handler, disposeHandler: false) { BaseAddress = c.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var pullUsers = dataset.Users.Take(256).ToArray();
        var cursors = new string[pullUsers.Length];
        for (var i = 0; i < pullUsers.Length; i++)
        {
            cursors[i] = await Workloads.CursorBeforeEndAsync(httpC, tokens.For(pullUsers[i]), dataset.RowsPerUser - 50);
        }

        Task<Measurement> PullDelta(string name) => LoadRunner.RunAsync(name, 64, duration, c, async (worker, n) =>
        {
            var u = (worker * 7919 + n) % pullUsers.Length;
            using var response = await http(httpC, pullUsers[u], $"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursors[u])}&limit=500", null);
            await Workloads.EnsureAsync(response, 200);
            return 1;
        });

        var streamUsers = await ExtraUsersAsync(pg, (streamsWanted + 9) / 10);
        await Task.Delay(TimeSpan.FromSeconds(10));
        var idleBefore = c.RssMegabytes();
        var streams = new List<SseReader>(streamsWanted);
        var opened = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(100))
        {
            var opening = Enumerable.Range(0, streamsWanted).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var reader = await SseReader.OpenAsync(httpC, tokens.For(streamUsers[i / 10]), track: false);
                    lock (streams)
                    {
                        streams.Add(reader);
                    }
                }
                finally
                {
                    gate.Release();
                }
            });
            await Task.WhenAll(opening);
        }

        Console.WriteLine($"   {streams.Count} streams open in {opened.Elapsed.TotalSeconds:0.0} s");
        await Task.Delay(TimeSpan.FromSeconds(20));
        var idleWith = c.RssMegabytes();
        Console.WriteLine($"   RSS idle {idleBefore:0} MB, with {streams.Count} streams {idleWith:0} MB");
        var with = await PullDelta($"pull (delta of ~50 rows), {streams.Count:N0} streams open");
        var alive = streams.Count(s => !s.Ended);
        foreach (var s in streams)
        {
            s.Dispose();
        }

        await Task.Delay(TimeSpan.FromSeconds(5));
        var without = await PullDelta("pull (delta of ~50 rows), no streams open");
        a = c;

        var peak = a.PeakRssMegabytes();
        report.AppendLine("## Live sync and compression (issue 15)");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/live.sh` on the shared 2-core machine (other engineers were building and testing on it at the same time, so the figures are noisy and on the pessimistic side). Three API instances (Release, Redis on: A and B for latency, C for the idle streams), PostgreSQL 15 and the load generator share the cores over loopback. Dataset: {dataset.Users.Count:N0} users × 10 habits × 100 entries, plus {streamUsers.Count:N0} empty users for the streams. Each load: 3 s warm-up, {seconds} s measured. Load average of the machine (1 min) at the start {loadAtStart}, at the end {LoadAverage()}: on 2 cores, anything above 2 means this run was starved of CPU.");
        report.AppendLine();
        report.AppendLine("Commit-to-event latency: one user with a stream on instance A and one on instance B; habit updates (PUT) on A, one at a time, 100 ms apart, after 50 unmeasured ones; each timed from sending the PUT to the `change` on each stream (an upper bound: it includes the write's own request and commit).");
        report.AppendLine();
        report.AppendLine("| stream on | samples | p50 ms | p99 ms | max ms |");
        report.AppendLine("|---|---:|---:|---:|---:|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| the same instance (A) | {same.Count} | {P(same, 0.5):0.0} | {P(same, 0.99):0.0} | {same.Max():0.0} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| the other instance (B) | {cross.Count} | {P(cross, 0.5):0.0} | {P(cross, 0.99):0.0} | {cross.Max():0.0} |");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Idle streams: {streams.Count:N0} open on a third instance, C ({alive:N0} still open after the pull load), opened 100 at a time in {opened.Elapsed.TotalSeconds:0} s. RSS of C idle (started, a few requests served, 10 s pause) {idleBefore:0} MB, with the streams {idleWith:0} MB (+{idleWith - idleBefore:0} MB, {(idleWith - idleBefore) * 1024 * 1024 / Math.Max(1, streams.Count) / 1024:0.0} KB a stream); peak {peak:0} MB.");
        report.AppendLine();
        report.AppendLine("| workload | connections | req/s | p50 ms | p99 ms | errors | RSS MB |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var m in new[] { with, without }.Concat(pageRows))
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"| {m.Name} | {m.Connections} | {m.RequestsPerSecond:N0} | {m.P50Ms:0.0} | {m.P99Ms:0.0} | {m.Errors} | {m.RssMb:0} |");
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"A 1,000-row pull page: {bytes["identity"]:N0} bytes as JSON, {bytes["gzip"]:N0} gzip ({100.0 * bytes["gzip"] / bytes["identity"]:0.0} %), {bytes["br"]:N0} Brotli ({100.0 * bytes["br"] / bytes["identity"]:0.0} %), both at the fastest level.");
        report.AppendLine();
        report.AppendLine("| target | measured | met |");
        report.AppendLine("|---|---|---|");
        var p99 = Math.Max(P(same, 0.99), P(cross, 0.99));
        report.AppendLine(CultureInfo.InvariantCulture, $"| commit-to-event p99 ≤ 100 ms on loopback, same instance and across two | {P(same, 0.99):0} / {P(cross, 0.99):0} ms | {(p99 <= 100 ? "yes" : "**no**")} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| {streams.Count:N0} idle streams: ≤ 200 MB above the idle process | +{idleWith - idleBefore:0} MB | {(idleWith - idleBefore <= 200 && streams.Count >= 10_000 ? "yes" : "**no**")} |");
        var text = report.ToString();
        Console.WriteLine(text);

        // The section replaces an earlier run's in RESULTS.md; the rest of the file is bench/run.sh's.
        var existing = File.Exists(results) ? await File.ReadAllTextAsync(results) : "";
        var at = existing.IndexOf("## Live sync and compression (issue 15)", StringComparison.Ordinal);
        var kept = (at >= 0 ? existing[..at] : existing).TrimEnd() + "\n\n";
        await File.WriteAllTextAsync(results, kept + text);
        return 0;

        Task<HttpResponseMessage> http(HttpClient client, BenchUser user, string url, string? encoding)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = tokens.Bearer(user);
            if (encoding is not null)
            {
                request.Headers.AcceptEncoding.ParseAdd(encoding);
            }

            return client.SendAsync(request);
        }
    }

    /// <summary>
    /// One user with a stream on each instance; habit updates on <paramref name="writer"/>, one at a
    /// time, each timed from its send to the <c>change</c> on each stream (so both see the same noise).
    /// </summary>
    private static async Task<(List<double> Same, List<double> Cross)> LatencyAsync(HttpClient writer, HttpClient other, BenchUser user, Tokens tokens, int samples)
    {
        using var sameStream = await SseReader.OpenAsync(writer, tokens.For(user));
        using var crossStream = await SseReader.OpenAsync(other, tokens.For(user));
        var habit = user.Habits[0];
        int version;
        using (var current = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/habits/{habit}"))
        {
            current.Headers.Authorization = tokens.Bearer(user);
            using var response = await writer.SendAsync(current);
            version = (int)(await Workloads.EnsureAsync(response, 200))["version"]!;
        }

        const int warmUp = 50;
        var same = new List<double>(samples);
        var cross = new List<double>(samples);
        for (var i = 0; i < samples + warmUp; i++)
        {
            await Task.Delay(100);
            foreach (var stream in new[] { sameStream, crossStream })
            {
                while (stream.Changes.Reader.TryRead(out _))
                {
                }
            }

            var sent = Stopwatch.GetTimestamp();
            using var request = Workloads.Json(HttpMethod.Put, $"/api/v1/habits/{habit}", new { version, title = $"Habit {i}" });
            request.Headers.Authorization = tokens.Bearer(user);
            using var response = await writer.SendAsync(request);
            version = (int)(await Workloads.EnsureAsync(response, 200))["version"]!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var onSame = await sameStream.Changes.Reader.ReadAsync(timeout.Token);
            var onCross = await crossStream.Changes.Reader.ReadAsync(timeout.Token);
            if (i >= warmUp)
            {
                same.Add(Stopwatch.GetElapsedTime(sent, onSame).TotalMilliseconds);
                cross.Add(Stopwatch.GetElapsedTime(sent, onCross).TotalMilliseconds);
            }
        }

        same.Sort();
        cross.Sort();
        Console.WriteLine($"   latency same instance: p50 {P(same, 0.5):0.0} ms, p99 {P(same, 0.99):0.0} ms; other instance: p50 {P(cross, 0.5):0.0} ms, p99 {P(cross, 0.99):0.0} ms");
        return (same, cross);
    }

    /// <summary>Users with no records, for the idle streams (at most 10 streams per user).</summary>
    private static async Task<List<BenchUser>> ExtraUsersAsync(string pg, int count)
    {
        var users = Enumerable.Range(0, count).Select(i => new BenchUser(100_000 + i, Guid.NewGuid(), $"stream-{i}-{Guid.NewGuid():N}@example.com", "UTC", [])).ToList();
        await using var db = new NpgsqlConnection(pg);
        await db.OpenAsync();
        await using var writer = await db.BeginBinaryImportAsync("COPY users (id, email, timezone) FROM STDIN (FORMAT BINARY)");
        foreach (var user in users)
        {
            await writer.StartRowAsync();
            await writer.WriteAsync(user.Id, NpgsqlTypes.NpgsqlDbType.Uuid);
            await writer.WriteAsync(user.Email, NpgsqlTypes.NpgsqlDbType.Text);
            await writer.WriteAsync("UTC", NpgsqlTypes.NpgsqlDbType.Text);
        }

        await writer.CompleteAsync();
        return users;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static double P(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>One event stream, read in the background; the arrival time of each <c>change</c> is queued.</summary>
    private sealed class SseReader : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly HttpResponseMessage _response;

        private SseReader(HttpResponseMessage response) => _response = response;

        public Channel<long> Changes { get; } = Channel.CreateUnbounded<long>();

        public bool Ended { get; private set; }

        public static async Task<SseReader> OpenAsync(HttpClient http, string token, bool track = true)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/sync/events");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"The stream answered {(int)response.StatusCode}.");
            }

            var reader = new SseReader(response);
            _ = Task.Run(track ? reader.ReadAsync : reader.DrainAsync);
            return reader;
        }

        private async Task ReadAsync()
        {
            try
            {
                await using var body = await _response.Content.ReadAsStreamAsync(_stop.Token);
                using var lines = new StreamReader(body);
                while (await lines.ReadLineAsync(_stop.Token) is { } line)
                {
                    if (line == "event: change")
                    {
                        Changes.Writer.TryWrite(Stopwatch.GetTimestamp());
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
            {
            }

            Ended = true;
        }

        /// <summary>Reads and drops (pings), with a small buffer: an idle stream's client side stays small.</summary>
        private async Task DrainAsync()
        {
            try
            {
                await using var body = await _response.Content.ReadAsStreamAsync(_stop.Token);
                var buffer = new byte[64];
                while (await body.ReadAsync(buffer, _stop.Token) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
            {
            }

            Ended = true;
        }

        public void Dispose()
        {
            _stop.Cancel();
            _response.Dispose();
        }
    }
}
