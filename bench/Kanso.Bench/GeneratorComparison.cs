using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Kanso.Bench;

internal sealed record GeneratorRun(string Generator, double RequestsPerSecond, double P50Ms, double P99Ms, double LoadCpuMsPerRequest, CpuSplit Cpu);

/// <summary>
/// The same pull workload driven once by wrk (C, Lua script) and once by the bench's .NET generator,
/// to say which leaves more of the two cores to the system under test.
/// </summary>
internal static partial class GeneratorComparison
{
    public static async Task<GeneratorRun?> WrkAsync(string wrk, ApiServer api, BenchUser[] users, string[] cursors, Tokens tokens, Probe probe, int connections, TimeSpan duration)
    {
        var script = new StringBuilder("local paths = {\n");
        foreach (var cursor in cursors)
        {
            script.Append(CultureInfo.InvariantCulture, $"  \"/api/v1/sync/pull?cursor={Uri.EscapeDataString(cursor)}&limit=500\",\n");
        }

        script.Append("}\nlocal tokens = {\n");
        foreach (var user in users)
        {
            script.Append(CultureInfo.InvariantCulture, $"  \"Bearer {tokens.For(user)}\",\n");
        }

        script.Append("""
            }
            local n = 0
            request = function()
              n = n + 1
              local k = (n % #paths) + 1
              return wrk.format("GET", paths[k], { ["Authorization"] = tokens[k] })
            end
            done = function(summary, latency, requests)
              io.write(string.format("kanso-bench: non2xx=%d\n", summary.errors.status))
            end
            """);
        var file = Path.Combine(Path.GetTempPath(), $"kanso-wrk-{Environment.ProcessId}.lua");
        await File.WriteAllTextAsync(file, script.ToString());

        // Warm-up as the .NET generator does, then the measured run.
        await RunWrkAsync(wrk, api, file, connections, 3);
        await probe.Statements.ResetAsync();
        var before = probe.Cpu.Read();
        var output = await RunWrkAsync(wrk, api, file, connections, (int)duration.TotalSeconds);
        var used = probe.Cpu.Read() - before;
        var rps = Regex.Match(output, @"Requests/sec:\s+([0-9.]+)");
        var total = Regex.Match(output, @"(\d+) requests in");
        if (!rps.Success || !total.Success || !Regex.IsMatch(output, "non2xx=0"))
        {
            Console.WriteLine($"   wrk failed or saw errors:\n{output}");
            return null;
        }

        var requests = double.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture);
        var run = new GeneratorRun("wrk (Lua)", double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), Percentile(output, "50"), Percentile(output, "99"), 1000 * used.LoadGenerator / requests, used);
        Console.WriteLine($"   wrk: {run.RequestsPerSecond:0} req/s, p50 {run.P50Ms:0.0} ms, p99 {run.P99Ms:0.0} ms, load generator {run.LoadCpuMsPerRequest:0.000} ms CPU per request; {used.Shares()}");
        return run;
    }

    public static GeneratorRun FromDotnet(Measurement m) =>
        new(".NET (HttpClient)", m.RequestsPerSecond, m.P50Ms, m.P99Ms, 1000 * m.Cpu.LoadGenerator / m.Requests, m.Cpu);

    private static async Task<string> RunWrkAsync(string wrk, ApiServer api, string script, int connections, int seconds)
    {
        var psi = new ProcessStartInfo(wrk) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-t", "2", "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", $"{seconds}s", "--latency", "-s", script, api.BaseAddress.ToString().TrimEnd('/') })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await output + await errors;
    }

    /// <summary>wrk --latency prints "50%  12.34ms" (or us / s).</summary>
    private static double Percentile(string output, string p)
    {
        var m = Regex.Match(output, $@"\s{p}%\s+([0-9.]+)(us|ms|s)\b");
        if (!m.Success)
        {
            return double.NaN;
        }

        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }
}
