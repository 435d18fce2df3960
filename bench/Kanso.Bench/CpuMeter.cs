using System.Globalization;
using Npgsql;

namespace Kanso.Bench;

/// <summary>CPU seconds spent by each part of the system under test, read from /proc.</summary>
internal readonly record struct CpuSplit(double Postgres, double Api, double Redis, double LoadGenerator)
{
    public double Total => Postgres + Api + Redis + LoadGenerator;

    public static CpuSplit operator -(CpuSplit a, CpuSplit b) =>
        new(a.Postgres - b.Postgres, a.Api - b.Api, a.Redis - b.Redis, a.LoadGenerator - b.LoadGenerator);

    public CpuSplit Per(double operations) =>
        operations <= 0 ? default : new(Postgres / operations, Api / operations, Redis / operations, LoadGenerator / operations);

    /// <summary>"PG 41 % · API 38 % · Redis 3 % · load 18 %" of the CPU this part used.</summary>
    public string Shares()
    {
        var total = Total;
        return total <= 0
            ? "n/a"
            : string.Create(CultureInfo.InvariantCulture, $"PG {100 * Postgres / total:0} % · API {100 * Api / total:0} % · Redis {100 * Redis / total:0} % · load {100 * LoadGenerator / total:0} %");
    }
}

/// <summary>
/// Reads utime + stime of the processes under test: every PostgreSQL process (the postmasters found
/// through a connection, their live children, and the children they reaped), the API, Redis, and
/// the load generator (this process, plus its reaped children: pgbench and wrk run as children and
/// are counted once they exit).
/// </summary>
internal sealed class CpuMeter(IReadOnlyList<int> postmasters, Func<int?> apiPid, int? redisPid)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static async Task<CpuMeter> CreateAsync(string postgres, Func<int?> apiPid)
    {
        var postmasters = new List<int>();
        await using (var db = new NpgsqlConnection(postgres))
        {
            await db.OpenAsync();
            postmasters.Add(ParentOf(await Scalar<int>(db, "SELECT pg_backend_pid()")));
            var builder = new NpgsqlConnectionStringBuilder(postgres);
            if (await Scalar<bool>(db, "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')"))
            {
                await using var nodes = new NpgsqlCommand("SELECT nodeport FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0", db);
                await using var reader = await nodes.ExecuteReaderAsync();
                var ports = new List<int>();
                while (await reader.ReadAsync())
                {
                    ports.Add(reader.GetInt32(0));
                }

                foreach (var port in ports)
                {
                    await using var worker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Port = port }.ConnectionString);
                    await worker.OpenAsync();
                    postmasters.Add(ParentOf(await Scalar<int>(worker, "SELECT pg_backend_pid()")));
                }
            }
        }

        int? redis = int.TryParse(Environment.GetEnvironmentVariable("KANSO_BENCH_REDIS_PID"), CultureInfo.InvariantCulture, out var pid) ? pid : null;
        return new CpuMeter(postmasters, apiPid, redis);
    }

    public CpuSplit Read()
    {
        var postgres = 0.0;
        var pids = Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var p) ? p : 0).Where(p => p > 0).ToArray();
        foreach (var pid in pids)
        {
            if (Stat(pid) is { } stat && (postmasters.Contains(stat.Parent) || postmasters.Contains(pid)))
            {
                postgres += stat.Own + (postmasters.Contains(pid) ? stat.Children : 0);
            }
        }

        var self = Stat(Environment.ProcessId);
        return new CpuSplit(
            postgres,
            apiPid() is { } api && Stat(api) is { } a ? a.Own : 0,
            redisPid is { } r && Stat(r) is { } rs ? rs.Own : 0,
            self is { } s ? s.Own + s.Children : 0);
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection db, string sql)
    {
        await using var command = new NpgsqlCommand(sql, db);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static int ParentOf(int pid) => Stat(pid)?.Parent ?? throw new InvalidOperationException($"No process {pid}: is PostgreSQL on this machine?");

    private readonly record struct ProcStat(int Parent, double Own, double Children);

    private static ProcStat? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // After "pid (comm) ": state ppid ... utime(14) stime(15) cutime(16) cstime(17), counted from 1.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        double F(int field) => long.Parse(fields[field - 3], CultureInfo.InvariantCulture) / TicksPerSecond;
        return new ProcStat(int.Parse(fields[1], CultureInfo.InvariantCulture), F(14) + F(15), F(16) + F(17));
    }
}

/// <summary>Statement counts from pg_stat_statements, when the server loads it (plain PostgreSQL runs of the bench).</summary>
internal sealed class StatementCounter(string postgres, bool available)
{
    public bool Available => available;

    public static async Task<StatementCounter> CreateAsync(string postgres)
    {
        await using var db = new NpgsqlConnection(postgres);
        await db.OpenAsync();
        try
        {
            await using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db);
            await create.ExecuteNonQueryAsync();
            await using var probe = new NpgsqlCommand("SELECT count(*) FROM pg_stat_statements", db);
            await probe.ExecuteScalarAsync();
            return new StatementCounter(postgres, true);
        }
        catch (PostgresException)
        {
            return new StatementCounter(postgres, false);
        }
    }

    public async Task ResetAsync()
    {
        if (!available)
        {
            return;
        }

        await using var db = new NpgsqlConnection(postgres);
        await db.OpenAsync();
        await using var reset = new NpgsqlCommand("SELECT pg_stat_statements_reset()", db);
        await reset.ExecuteNonQueryAsync();
    }

    /// <summary>Statements executed since the last reset (the bench's own bookkeeping excluded), and the busiest ones.</summary>
    public async Task<(long Calls, List<(long Calls, double Ms, string Query)> All)> ReadAsync()
    {
        if (!available)
        {
            return (0, []);
        }

        await using var db = new NpgsqlConnection(postgres);
        await db.OpenAsync();
        const string Sql = """
            SELECT calls, total_exec_time, query FROM pg_stat_statements
            WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_backend_pid%' AND query NOT LIKE '%pg_dist_node%'
              AND query NOT LIKE 'SELECT count(*) FROM habits WHERE streak_dirty%'
            ORDER BY calls DESC
            """;
        await using var command = new NpgsqlCommand(Sql, db);
        await using var reader = await command.ExecuteReaderAsync();
        long calls = 0;
        var list = new List<(long, double, string)>();
        while (await reader.ReadAsync())
        {
            calls += reader.GetInt64(0);
            list.Add((reader.GetInt64(0), reader.GetDouble(1), reader.GetString(2)));
        }

        return (calls, list);
    }
}
