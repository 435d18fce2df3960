using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Kanso.Bench;

/// <summary>The published API as a child process, with the rate limits raised (not switched off).</summary>
internal sealed class ApiServer : IAsyncDisposable
{
    private readonly Process _process;

    private ApiServer(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Pid => _process.Id;

    /// <param name="settings">Extra environment variables (observability switches in the comparison run).</param>
    /// <param name="quiet">Read the API's output but do not print it (its request log, when on).</param>
    /// <param name="mode">A first argument for the program (the bench's own `bare` server).</param>
    public static async Task<ApiServer> StartAsync(
        string dll, string postgres, string redis, string signingKey, IDictionary<string, string>? settings = null, bool quiet = false, string? mode = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        if (mode is not null)
        {
            psi.ArgumentList.Add(mode);
        }

        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{port}");
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // KANSO_BENCH_API_CONNECTION: extra connection string settings for the API only (e.g. "Maximum Pool Size=32").
        psi.Environment["ConnectionStrings__Postgres"] = Environment.GetEnvironmentVariable("KANSO_BENCH_API_CONNECTION") is { Length: > 0 } extra
            ? postgres + ";" + extra
            : postgres;
        psi.Environment["Redis__Configuration"] = redis;
        psi.Environment["Jwt__SigningKey"] = signingKey;
        psi.Environment["Logging__LogLevel__Default"] = "Warning";

        // The workloads measure the engine; the one-line-per-request log is measured on its own in
        // the observability comparison (KANSO_BENCH_OBSERVABILITY=compare).
        psi.Environment["Logging__LogLevel__Kanso.Requests"] = "Warning";
        foreach (var policy in new[] { "User", "Ip", "Login" })
        {
            psi.Environment[$"RateLimit__{policy}__Capacity"] = "1000000";
            psi.Environment[$"RateLimit__{policy}__PerMinute"] = "1000000";
        }

        // KANSO_BENCH_PERFMAP=1: the JIT writes /tmp/perf-<pid>.map, so `perf record -p <pid>` names .NET frames.
        if (Environment.GetEnvironmentVariable("KANSO_BENCH_PERFMAP") == "1")
        {
            psi.Environment["DOTNET_PerfMapEnabled"] = "1";
            psi.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }

        // KANSO_BENCH_API_ENV="NAME=value;NAME=value": environment for the API only (e.g. GC settings to try).
        foreach (var pair in (Environment.GetEnvironmentVariable("KANSO_BENCH_API_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            psi.Environment[pair[..at]] = pair[(at + 1)..];
        }

        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null && !quiet) Console.WriteLine($"   [api] {e.Data}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && !quiet) Console.WriteLine($"   [api] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new ApiServer(process, new Uri($"http://127.0.0.1:{port}"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 600; i++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The API exited with {process.ExitCode}.");
            }

            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The API did not become healthy.");
    }

    public double RssMegabytes() => ReadStatusKb("VmRSS:") / 1024.0;

    public double PeakRssMegabytes() => ReadStatusKb("VmHWM:") / 1024.0;

    private long ReadStatusKb(string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }
}

/// <summary>
/// Seeds users × habits × entries spread over the last year with binary COPY, plus one large account
/// for the initial-sync workload. Change numbers follow each user's write order, as the API stamps them.
/// </summary>
internal static class Seeder
{
    private static readonly string[] Zones = ["Europe/Rome", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney"];

    /// <param name="accounts">Extra accounts (habits, entries per habit) after the regular users: the
    /// first is the large account of the initial-sync workload; the scaling curves use them all.</param>
    public static async Task<Dataset> SeedAsync(
        string connectionString, int userCount, int habitsPerUser, int entriesPerHabit, params (int Habits, int EntriesPerHabit)[] accounts)
    {
        var sw = Stopwatch.StartNew();
        // No command timeout: completing the COPY of millions of entries (index upkeep) takes minutes.
        await using var db = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString);
        await db.OpenAsync();
        await using (var truncate = new NpgsqlCommand("TRUNCATE users, logins CASCADE", db))
        {
            await truncate.ExecuteNonQueryAsync();
        }

        if (accounts.Length == 0)
        {
            accounts = [(20, 1000)];
        }

        var now = DateTime.UtcNow;
        var yearAgo = now.AddDays(-365);
        var users = new List<BenchUser>(userCount);
        var random = new Random(42);
        for (var u = 0; u < userCount; u++)
        {
            users.Add(BenchUser.Create(u, $"bench-{u}@example.com", Zones[u % Zones.Length], habitsPerUser));
        }

        var extra = accounts.Select((a, i) => BenchUser.Create(userCount + i, $"bench-large-{i}@example.com", "Europe/Rome", a.Habits, a.EntriesPerHabit)).ToList();
        var big = extra[0];

        var rowsPerUser = habitsPerUser + (habitsPerUser * entriesPerHabit);
        await using (var writer = await db.BeginBinaryImportAsync("COPY users (id, email, timezone, change_seq, created_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var user in users.Concat(extra))
            {
                var perUser = user.EntriesPerHabit is { } n ? user.Habits.Count * (1 + n) : rowsPerUser;
                await writer.StartRowAsync();
                await writer.WriteAsync(user.Id, NpgsqlDbType.Uuid);
                await writer.WriteAsync(user.Email, NpgsqlDbType.Text);
                await writer.WriteAsync(user.Timezone, NpgsqlDbType.Text);
                await writer.WriteAsync((long)perUser, NpgsqlDbType.Bigint);
                await writer.WriteAsync(yearAgo, NpgsqlDbType.TimestampTz);
            }

            await writer.CompleteAsync();
        }

        await using (var writer = await db.BeginBinaryImportAsync(
            "COPY habits (user_id, id, title, type, target_value, frequency_type, sort_order, start_date, created_at, updated_at, version, change_seq) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var user in users.Concat(extra))
            {
                for (var h = 0; h < user.Habits.Count; h++)
                {
                    await writer.StartRowAsync();
                    await writer.WriteAsync(user.Id, NpgsqlDbType.Uuid);
                    await writer.WriteAsync(user.Habits[h], NpgsqlDbType.Uuid);
                    await writer.WriteAsync($"Habit {h}", NpgsqlDbType.Text);
                    await writer.WriteAsync("boolean", NpgsqlDbType.Text);
                    await writer.WriteAsync(1.0, NpgsqlDbType.Double);
                    await writer.WriteAsync("daily", NpgsqlDbType.Text);
                    await writer.WriteAsync(h, NpgsqlDbType.Integer);
                    await writer.WriteAsync(yearAgo, NpgsqlDbType.TimestampTz);
                    await writer.WriteAsync(yearAgo, NpgsqlDbType.TimestampTz);
                    await writer.WriteAsync(yearAgo, NpgsqlDbType.TimestampTz);
                    await writer.WriteAsync(1, NpgsqlDbType.Integer);
                    await writer.WriteAsync((long)(h + 1), NpgsqlDbType.Bigint);
                }
            }

            await writer.CompleteAsync();
        }

        // One device session per account, as a login opens: the bench's tokens carry its sid, so every
        // request takes the path a signed-in phone's does (session check, last-sync stamp).
        await using (var writer = await db.BeginBinaryImportAsync(
            "COPY sessions (user_id, id, refresh_hash, refresh_expires_at, rotated_at, created_at, last_used_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var user in users.Concat(extra))
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(user.Id, NpgsqlDbType.Uuid);
                await writer.WriteAsync(BenchIds.Session(user.Index), NpgsqlDbType.Uuid);
                await writer.WriteAsync(System.Security.Cryptography.SHA256.HashData(user.Id.ToByteArray()), NpgsqlDbType.Bytea);
                await writer.WriteAsync(now.AddDays(30), NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }

            await writer.CompleteAsync();
        }

        long total = 0;
        await using (var writer = await db.BeginBinaryImportAsync(
            "COPY habit_entries (user_id, id, habit_id, completion_date, local_date, value, created_at, updated_at, version, change_seq) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var user in users.Concat(extra))
            {
                var perHabit = user.EntriesPerHabit ?? entriesPerHabit;
                long seq = user.Habits.Count;
                for (var h = 0; h < user.Habits.Count; h++)
                {
                    for (var e = 0; e < perHabit; e++)
                    {
                        var at = yearAgo.AddMinutes((long)e * 365 * 24 * 60 / perHabit + random.Next(0, 600));
                        await writer.StartRowAsync();
                        await writer.WriteAsync(user.Id, NpgsqlDbType.Uuid);
                        await writer.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
                        await writer.WriteAsync(user.Habits[h], NpgsqlDbType.Uuid);
                        await writer.WriteAsync(at, NpgsqlDbType.TimestampTz);
                        // The day the entry belongs to, in the user's zone (as the server would set it).
                        var zone = TimeZoneInfo.FindSystemTimeZoneById(user.Timezone);
                        await writer.WriteAsync(DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(at, zone)), NpgsqlDbType.Date);
                        await writer.WriteAsync(1.0, NpgsqlDbType.Double);
                        await writer.WriteAsync(at, NpgsqlDbType.TimestampTz);
                        await writer.WriteAsync(at, NpgsqlDbType.TimestampTz);
                        await writer.WriteAsync(1, NpgsqlDbType.Integer);
                        await writer.WriteAsync(++seq, NpgsqlDbType.Bigint);
                        total++;
                    }
                }
            }

            await writer.CompleteAsync();
        }

        // VACUUM cannot run inside a multi-statement batch: one command per table.
        foreach (var table in new[] { "users", "habits", "habit_entries" })
        {
            await using var analyze = new NpgsqlCommand($"VACUUM ANALYZE {table}", db) { CommandTimeout = 600 };
            await analyze.ExecuteNonQueryAsync();
        }

        var seedTime = sw.Elapsed;
        long bytes;
        await using (var size = new NpgsqlCommand("SELECT pg_database_size(current_database())", db))
        {
            bytes = (long)(await size.ExecuteScalarAsync())!;
        }

        Console.WriteLine($"Seeded {userCount + extra.Count} users, {total} entries in {seedTime.TotalSeconds:0} s; database {bytes / 1048576.0:N0} MB");
        return new Dataset(users, big, rowsPerUser, total, seedTime, extra, bytes);
    }
}

/// <summary>
/// Stands in for an OpenTelemetry collector in the observability comparison: accepts OTLP/HTTP
/// exports on a loopback port, answers 200 and discards them, so exporting costs what it costs.
/// </summary>
internal sealed class OtlpSink : IDisposable
{
    private readonly HttpListener _listener = new();

    public OtlpSink()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
        probe.Stop();
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                try
                {
                    var context = await _listener.GetContextAsync();
                    await context.Request.InputStream.CopyToAsync(Stream.Null);
                    Interlocked.Add(ref _bytes, context.Request.ContentLength64);
                    context.Response.StatusCode = 200;
                    context.Response.Close();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException or IOException)
                {
                }
            }
        });
    }

    private long _bytes;

    public string Endpoint { get; }

    public long BytesReceived => Interlocked.Read(ref _bytes);

    public void Dispose() => _listener.Close();
}
