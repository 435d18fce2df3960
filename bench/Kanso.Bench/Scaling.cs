using System.Diagnostics;
using System.Globalization;

namespace Kanso.Bench;

internal sealed record AccountCurve(int Rows, Measurement DeltaPull, InitialSync Initial);

internal sealed record Curves(List<AccountCurve> Accounts, List<(int Batch, Measurement Push)> Pushes, List<(int Days, Measurement Stats)> Stats, int Seconds);

/// <summary>
/// How cost grows with size: delta pull and initial sync for accounts of 1,000 / 20,000 / 200,000
/// rows, push throughput by batch size, stats latency by range.
/// </summary>
internal static class Scaling
{
    public static async Task<Curves> RunAsync(HttpClient http, Tokens tokens, Dataset dataset, ApiServer api, Probe probe)
    {
        var seconds = int.Parse(Environment.GetEnvironmentVariable("KANSO_BENCH_CURVE_SECONDS") ?? "6", CultureInfo.InvariantCulture);
        var duration = TimeSpan.FromSeconds(seconds);
        var accounts = new List<AccountCurve>();
        foreach (var account in dataset.Accounts.OrderBy(a => a.Rows(0)))
        {
            var rows = account.Rows(0);
            var token = tokens.For(account);
            var initial = await Workloads.InitialSyncAsync(http, token, rounds: rows > 100_000 ? 2 : 3);
            var cursor = await Workloads.CursorBeforeEndAsync(http, token, rows - 50);
            var delta = await LoadRunner.RunAsync($"delta pull, account of {rows:N0} rows", 8, duration, api, async (_, _) =>
            {
                await Workloads.PullAsync(http, token, cursor, 500);
                return 1;
            }, probe);
            accounts.Add(new AccountCurve(rows, delta, initial));
        }

        var pushes = new List<(int, Measurement)>();
        foreach (var batch in new[] { 1, 10, 50, 500 })
        {
            var m = await LoadRunner.RunAsync($"push of {batch} mutations", 16, duration, api, (worker, n) =>
                Workloads.PushEntriesAsync(http, tokens, dataset.Users[(worker * 131 + n) % dataset.Users.Count], batch), probe,
                () => Workloads.StreaksSettledAsync(Environment.GetEnvironmentVariable("KANSO_BENCH_POSTGRES")!));
            pushes.Add((batch, m));
        }

        var stats = new List<(int, Measurement)>();
        foreach (var days in new[] { 7, 90, 365 })
        {
            stats.Add((days, await LoadRunner.RunAsync($"stats {days} days", 64, duration, api, Workloads.Stats(http, tokens, dataset, days), probe)));
        }

        return new Curves(accounts, pushes, stats, seconds);
    }
}
