using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Kanso.Bench;

/// <summary>
/// Kanso's own SQL, read from the published API assembly (its string constants), so a ceiling
/// script runs the statements the running API sends, not a copy that can drift from them.
/// </summary>
internal sealed partial class KansoSql(Assembly api)
{
    public static KansoSql Load(string apiDll) => new(Assembly.LoadFrom(apiDll));

    public string this[string type, string field] =>
        api.GetType("Kanso.Api." + type, throwOnError: true)!
            .GetField(field, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue() as string
        ?? throw new InvalidOperationException($"Kanso.Api.{type}.{field} is not a string constant: update the bench's ceiling scripts.");

    /// <summary>
    /// The statement(s) with each Dapper parameter <c>@name</c> replaced by its pgbench text
    /// (a variable with a cast, or an expression), one statement per line group ending in ';'.
    /// </summary>
    public static string Bind(string sql, IReadOnlyDictionary<string, string> values)
    {
        var bound = Parameter().Replace(sql, m =>
        {
            var name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            return values.TryGetValue(name, out var v) ? v : throw new InvalidOperationException($"No pgbench value for {name} in: {sql}");
        });
        return string.Join('\n', Statements(bound).Select(s => s + ";"));
    }

    private static IEnumerable<string> Statements(string sql) =>
        StatementEnd().Split(sql).Select(s => s.Trim()).Where(s => s.Length > 0);

    /// <summary>A Dapper parameter (@name) or a positional one ($1), bound as "$1".</summary>
    [GeneratedRegex(@"(?<![@\w:])@(\w+)|(\$\d+)\b")]
    private static partial Regex Parameter();

    [GeneratedRegex(@";\s*(?:\n|$)")]
    private static partial Regex StatementEnd();
}

/// <summary>A ceiling: the best pgbench did with one workload's SQL, and what it cost.</summary>
internal sealed record CeilingResult(string Name, double Tps, int Clients, double StatementsPerTx, CpuSplit CpuPerTx, string Script);

/// <summary>
/// The ceiling of each workload: pgbench (prepared statements, the mode Kanso's data source uses
/// through auto-prepare) running, with nothing in between, the statements one request of the
/// workload causes, in the same round trips (statements the API sends as one batch run as one
/// pipeline), at its best client count. Values the API reads back (a change number, the clock)
/// are pgbench variables: the work is the same, the rows differ.
/// </summary>
internal sealed class Ceiling(string pgbench, string postgres, KansoSql sql, Dataset dataset, CpuMeter cpu, StatementCounter statements, string workDir)
{
    private static readonly int[] ClientCounts = [4, 8, 16];

    public int Seconds { get; init; } = 6;

    /// <summary>
    /// The API process, stopped (SIGSTOP) while pgbench runs and resumed after: the ceiling is the
    /// database alone. Running, the API took 15-20 % of the CPU during the entry-write ceilings,
    /// answering the ceiling's change hints (pg_notify) and sweeping the habits it left dirty.
    /// </summary>
    public Func<int>? PausedProcess { get; init; }

    private string UserCount => (dataset.Users.Count - 1).ToString(CultureInfo.InvariantCulture);

    private static readonly string Now = "'" + DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture) + "'::timestamptz";

    private Dictionary<string, string> Common => new()
    {
        ["userId"] = BenchIds.UserSql(":u"),
        ["habitId"] = BenchIds.HabitSql(":u", ":h"),
        ["now"] = Now,
        ["changeSeq"] = ":seq::bigint",
    };

    /// <summary>
    /// The fingerprint of the checkpoints a ceiling's streak job stores: not the habit's, so the API
    /// would walk such a habit's whole history next time (see Workloads.RestoreStreaksAsync).
    /// </summary>
    public const string FakeFingerprint = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

    /// <summary>The next change number, the clock and the hint: one pipeline, as ChangeSequence sends them in one batch.</summary>
    private string NextChange() =>
        "\\set seq :seq + 1\n\\startpipeline\n" + KansoSql.Bind(sql["Domain.Sync.ChangeSequence", "NextWithHintSql"], Common) + "\n\\endpipeline\n";

    public string Pull(int rowsBeforeEnd, int take)
    {
        // PullChangesSql.Changes takes positional parameters, in PullChangesSql.Command's order.
        var values = Positional(
            new Dictionary<string, string>(Common)
            {
                ["habitSeq"] = $"{rowsBeforeEnd + 1}::bigint",
                ["entrySeq"] = $"{rowsBeforeEnd + 1}::bigint",
                ["offSeq"] = $"{rowsBeforeEnd + 1}::bigint",
                ["habitId"] = "'00000000-0000-0000-0000-000000000000'::uuid",
                ["entryId"] = "'00000000-0000-0000-0000-000000000000'::uuid",
                ["offId"] = "'00000000-0000-0000-0000-000000000000'::uuid",
                ["floor"] = $"{dataset.RowsPerUser}::bigint",
                ["take"] = $"{take + 1}::integer",
                ["protocol"] = "1::integer",
            },
            "userId", "habitSeq", "habitId", "entrySeq", "entryId", "floor", "take", "offSeq", "offId", "protocol");
        return $"\\set u random(0, {Math.Min(255, dataset.Users.Count - 1)})\n"
            + KansoSql.Bind(sql["Features.PullChanges.PullChangesSql", "Changes"], values) + "\n";
    }

    /// <summary>Adds "$1".. for a statement with positional parameters, in PullChangesSql.Command's order.</summary>
    private static Dictionary<string, string> Positional(Dictionary<string, string> values, params string[] order)
    {
        for (var i = 0; i < order.Length; i++)
        {
            values["$" + (i + 1).ToString(CultureInfo.InvariantCulture)] = values[order[i]];
        }

        return values;
    }

    public string Stats(int days)
    {
        var today = DateTime.UtcNow.Date;
        var values = new Dictionary<string, string>(Common)
        {
            ["start"] = $"'{today.AddDays(-(days - 1)):yyyy-MM-dd}'::date",
            ["end"] = $"'{today:yyyy-MM-dd}'::date",
        };
        // The ETag's position first (ChangeETag: a GET answers 304 when the account has not moved), then the stats.
        return $$"""
            \set u random(0, {{UserCount}})
            {{KansoSql.Bind(sql["Domain.Sync.ChangeETagFilter", "PositionSql"], values)}}
            {{KansoSql.Bind(sql["Features.GetStats.GetStatsSql", "DayStart"], values)}}
            {{KansoSql.Bind(sql["Features.GetStats.GetStatsSql", "HabitsWithDailyTotals"], values)}}
            {{KansoSql.Bind(sql["Features.GetStats.GetStatsSql", "TimeOffInRange"], values)}}

            """;
    }

    public string UpdateHabit()
    {
        var values = new Dictionary<string, string>(Common)
        {
            ["id"] = BenchIds.HabitSql(":u", ":h"),
            ["title"] = "'Habit ' || :seq",
            ["description"] = "NULL::text",
            ["color"] = "NULL::text",
            ["icon"] = "NULL::text",
            ["sortOrder"] = ":h::integer",
            ["type"] = "'boolean'::text",
            ["targetValue"] = "1::double precision",
            ["unit"] = "NULL::text",
            ["frequencyType"] = "'daily'::text",
            ["weekdays"] = "NULL::smallint[]",
            ["interval"] = "NULL::integer",
            ["timesPerWeek"] = "NULL::integer",
            ["reminderTime"] = "NULL::text",
            ["startDate"] = ":start_date::timestamptz",
            ["endDate"] = "NULL::timestamptz",
            ["archivedAt"] = "NULL::timestamptz",
            ["goal"] = "'at_least'::text",
            ["version"] = ":version::integer",
        };

        // HabitWrites.UpdateAsync: change number (the user's lock), the current row, the guarded update.
        return $$"""
            \set u random(0, {{UserCount}})
            \set h random(0, 9)
            \startpipeline
            BEGIN;
            \endpipeline
            {{NextChange()}}
            {{KansoSql.Bind(sql["Domain.Records.HabitSql", "Find"], values).TrimEnd(';')}} \gset
            {{KansoSql.Bind(sql["Domain.Records.HabitSql", "Update"], values)}}
            COMMIT;

            """;
    }

    private Dictionary<string, string> EntryValues(string habit) => new(Common)
    {
        // A fresh id per transaction, as a client sends: from a pgbench variable, not gen_random_uuid(),
        // which is VOLATILE and would turn the id lookup into a scan of the table.
        ["id"] = "md5('entry ' || :eid)::uuid",
        ["habitId"] = habit,
        ["completionDate"] = Now,
        ["value"] = "1::double precision",
        ["notes"] = "NULL::text",
        ["localDate"] = "NULL::date",
        ["localTime"] = $"'{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss}'::timestamp",
        ["kind"] = "'done'::text",
    };

    /// <summary>EntryWrites.CreateAsync inside an open transaction: the id check, the change number, the insert.</summary>
    private string CreateEntryStatements(string habit) =>
        "\\set eid random(1, 1000000000000000)\n"
        + KansoSql.Bind(sql["Domain.Records.EntrySql", "Find"], EntryValues(habit)) + "\n"
        + NextChange()
        + KansoSql.Bind(sql["Domain.Records.EntrySql", "Insert"], EntryValues(habit)) + "\n";

    /// <summary>
    /// One transaction of the streak worker (StreakRecalculator) for some habits of one user: lock the
    /// user, the habits, read the time off (one round trip), the habits' entries from their checkpoint
    /// on (the Monday of the week two weeks back, as a recompute in steady state resumes), then store
    /// every habit's streaks in one statement, with one change number when some changed
    /// (<paramref name="changed"/> of them).
    /// </summary>
    private string StreakJob(IReadOnlyList<string> habits, int changed)
    {
        var back = DateTime.UtcNow.Date.AddDays(-14);
        var checkpoint = back.AddDays(-(((int)back.DayOfWeek + 6) % 7));
        var values = new Dictionary<string, string>(Common)
        {
            ["habitIds"] = $"ARRAY[{string.Join(", ", habits)}]",
            ["froms"] = $"array_fill('{checkpoint:yyyy-MM-dd}'::date, ARRAY[{habits.Count}])",
            ["current"] = "1",
            ["longest"] = "1",
            ["dueAt"] = "NULL::timestamptz",
            // A stored checkpoint as the worker writes it; pgbench would read its colons as variables.
            ["checkpoint"] = $"replace('{{\"v\"~1,\"date\"~\"{checkpoint:yyyy-MM-dd}\",\"run\"~3,\"longest\"~12,\"fp\"~\"{FakeFingerprint}\"}}', '~', chr(58))",
        };
        var job = new StringBuilder();
        job.AppendLine("\\startpipeline").AppendLine("BEGIN;");
        job.AppendLine(KansoSql.Bind(sql["Domain.Streaks.StreakSql", "LockUser"], values));
        job.AppendLine(KansoSql.Bind(sql["Domain.Streaks.StreakSql", "LockDueHabits"], values));
        job.AppendLine(KansoSql.Bind(sql["Domain.Streaks.StreakSql", "LiveTimeOff"], values)).AppendLine("\\endpipeline");
        job.AppendLine(KansoSql.Bind(sql["Domain.Streaks.StreakSql", "LiveEntriesOfHabitsFrom"], values));
        if (changed > 0)
        {
            job.Append(NextChange());
        }

        var n = habits.Count;
        var store = new Dictionary<string, string>(values)
        {
            ["currents"] = $"array_fill(1, ARRAY[{n}])",
            ["longests"] = $"array_fill(12, ARRAY[{n}])",
            ["dueAts"] = $"array_fill(NULL::timestamptz, ARRAY[{n}])",
            ["checkpoints"] = $"array_fill({values["checkpoint"]}, ARRAY[{n}])",
            ["changed"] = $"ARRAY[{string.Join(", ", Enumerable.Range(0, n).Select(i => i < changed ? "true" : "false"))}]",
            ["changeSeq"] = changed > 0 ? ":seq::bigint" : "NULL::bigint",
            ["now"] = changed > 0 ? Now : "NULL::timestamptz",
        };
        job.AppendLine(KansoSql.Bind(sql["Domain.Streaks.StreakSql", "StoreStreaks"], store));
        return job.AppendLine("COMMIT;").ToString();
    }

    /// <summary>The write, then the streak worker's job in the share of requests where the API's run stored one.</summary>
    public string CreateEntry(StreakShares shares) => $$"""
        \set u random(0, {{UserCount}})
        \set h random(0, 9)
        \startpipeline
        BEGIN;
        \endpipeline
        {{CreateEntryStatements(BenchIds.HabitSql(":u", ":h"))}}
        COMMIT;
        \set job random(1, 1000) <= {{shares.JobPermille}}
        \if :job
        \set changed random(1, 1000) <= {{shares.ChangedPermille}}
        \if :changed
        {{StreakJob([BenchIds.HabitSql(":u", ":h")], changed: 1)}}
        \else
        {{StreakJob([BenchIds.HabitSql(":u", ":h")], changed: 0)}}
        \endif
        \endif
        """;

    public string Push(int mutations, StreakShares shares)
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"\\set u random(0, {UserCount})");
        var ids = $"ARRAY(SELECT gen_random_uuid()::text FROM generate_series(1, {mutations}))";
        var values = new Dictionary<string, string>(Common)
        {
            ["ids"] = ids,
            ["hashes"] = $"array_fill('\\x{new string('a', 64)}'::bytea, ARRAY[{mutations}])",
            // A stored result as the API writes it; pgbench would read its colons as variables, so they travel as '~'.
            ["results"] = $"array_fill(replace('{ResultJson.Replace(':', '~')}', '~', chr(58)), ARRAY[{mutations}])",
        };
        s.AppendLine("\\startpipeline").AppendLine("BEGIN;");
        s.AppendLine(KansoSql.Bind(sql["Features.PushChanges.PushChangesSql", "Begin"], values));
        s.AppendLine("\\endpipeline");

        // A run of new entry creates, set-wise (PushChangesCreateRun): the savepoint with the lookup of
        // the ids, habits and day start; the run's change numbers; one insert of every row.
        var runHabits = Enumerable.Range(0, mutations).Select(i => BenchIds.HabitSql(":u", (i % 10).ToString(CultureInfo.InvariantCulture))).ToList();
        var run = new Dictionary<string, string>(values)
        {
            ["ids"] = $"ARRAY(SELECT gen_random_uuid() FROM generate_series(1, {mutations}))",
            ["habitIds"] = $"ARRAY[{string.Join(", ", runHabits)}]",
            ["count"] = mutations.ToString(CultureInfo.InvariantCulture),
            ["dayStart"] = "0",
            ["completionDates"] = $"array_fill({Now}, ARRAY[{mutations}])",
            ["localDates"] = $"array_fill(NULL::date, ARRAY[{mutations}])",
            ["localTimes"] = $"array_fill('{DateTime.UtcNow:yyyy-MM-ddTHH~mm~ss}'::text, ARRAY[{mutations}])",
            ["kinds"] = $"array_fill('done'::text, ARRAY[{mutations}])",
            ["values"] = $"array_fill(1::double precision, ARRAY[{mutations}])",
            ["notes"] = $"array_fill(NULL::text, ARRAY[{mutations}])",
            ["changeSeqs"] = $"ARRAY(SELECT :seq + g FROM generate_series(1, {mutations}) AS g)",
        };
        run["localTimes"] = $"ARRAY(SELECT replace(t, '~', chr(58))::timestamp FROM unnest({run["localTimes"]}) AS t)";
        s.AppendLine("\\startpipeline").AppendLine("SAVEPOINT mutation;");
        s.AppendLine(KansoSql.Bind(sql["Features.PushChanges.PushChangesSql", "FindCreates"], run));
        s.AppendLine("\\endpipeline");
        s.AppendLine("\\startpipeline");
        s.AppendLine(KansoSql.Bind(sql["Domain.Sync.ChangeSequence", "TakeWithHintSql"], run));
        s.AppendLine("\\endpipeline");
        s.AppendLine(KansoSql.Bind(sql["Features.PushChanges.PushChangesSql", "InsertEntries"], run));
        s.AppendLine(CultureInfo.InvariantCulture, $"\\set seq :seq + {mutations}");
        s.AppendLine(KansoSql.Bind(sql["Features.PushChanges.PushChangesSql", "Remember"], values));
        s.AppendLine("COMMIT;");
        // One job per habit the push touched; the share that changed is fixed (no \if: pgbench
        // 15 mis-binds prepared statements inside \if branches of very long scripts).
        // The worker's transactions for the push's habits, as many as the API's run took per push, the
        // habits it stored spread over them, as many of them changed as there.
        var jobs = Math.Max(1, (int)Math.Round(shares.JobPermille / 1000.0));
        var stored = Math.Min(10, (int)Math.Round(shares.StoredPermille / 1000.0));
        var changedTotal = (int)Math.Round(stored * shares.ChangedPermille / 1000.0);
        for (var j = 0; j < jobs && stored > 0; j++)
        {
            var habits = Enumerable.Range(0, stored).Where(h => h % jobs == j)
                .Select(h => BenchIds.HabitSql(":u", h.ToString(CultureInfo.InvariantCulture))).ToList();
            var changedHere = Enumerable.Range(0, changedTotal).Count(h => h % jobs == j);
            s.Append(StreakJob(habits, Math.Min(changedHere, habits.Count)));
        }

        return s.ToString();
    }

    private const string ResultJson = """{"mutation_id":"00000000-0000-0000-0000-000000000000","status":"applied","record":{"id":"00000000-0000-0000-0000-000000000000","habit_id":"00000000-0000-0000-0000-000000000000","completion_date":"2026-11-30T12:00:00Z","local_date":"2026-11-30","value":1,"notes":null,"version":1,"created_at":"2026-11-30T12:00:00Z","updated_at":"2026-11-30T12:00:00Z","deleted_at":null}}""";

    /// <summary>
    /// Runs the script at <paramref name="clients"/>, or, when not given, at each client count and
    /// keeps the best (the first round of a workload finds its client count; later rounds reuse it).
    /// </summary>
    public async Task<CeilingResult> RunAsync(string name, string script, int? clients = null)
    {
        var file = Path.Combine(workDir, Regex.Replace(name, "[^a-z0-9]+", "-") + ".pgbench");
        await File.WriteAllTextAsync(file, script);
        var builder = new NpgsqlConnectionStringBuilder(postgres);
        if (clients is { } given)
        {
            return await RunOnceAsync(given);
        }

        var tried = new List<CeilingResult>();
        foreach (var count in ClientCounts)
        {
            tried.Add(await RunOnceAsync(count));
        }

        return tried.MaxBy(r => r.Tps)!;

        async Task<CeilingResult> RunOnceAsync(int clients)
        {
            await statements.ResetAsync();
            var before = cpu.Read();
            var psi = new ProcessStartInfo(pgbench) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[]
            {
                "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username ?? "postgres",
                "-n", "-M", "prepared", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2",
                "-T", Seconds.ToString(CultureInfo.InvariantCulture), "-D", "seq=1000000000", "-f", file, builder.Database!,
            })
            {
                psi.ArgumentList.Add(arg);
            }

            var paused = PausedProcess?.Invoke();
            if (paused is { } stop)
            {
                Signal(stop, SIGSTOP);
            }

            string text;
            int exitCode;
            try
            {
                using var process = Process.Start(psi)!;
                var output = process.StandardOutput.ReadToEndAsync();
                var errors = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                text = await output + await errors;
                exitCode = process.ExitCode;
            }
            finally
            {
                if (paused is { } resume)
                {
                    Signal(resume, SIGCONT);
                }
            }

            var tps = Regex.Match(text, @"tps = ([0-9.]+) \(without initial connection time\)");
            var transactions = Regex.Match(text, @"number of transactions actually processed: (\d+)");
            if (exitCode != 0 || !tps.Success || !transactions.Success || Regex.IsMatch(text, @"number of failed transactions: [1-9]"))
            {
                throw new InvalidOperationException($"pgbench failed on {name} ({file}):\n{text}");
            }

            var used = cpu.Read() - before;
            var count = double.Parse(transactions.Groups[1].Value, CultureInfo.InvariantCulture);
            var (calls, _) = await statements.ReadAsync();
            var result = new CeilingResult(name, double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture), clients, calls / count, used.Per(count), file);
            Console.WriteLine($"   ceiling {name}, {clients} clients: {result.Tps:0} tps, {result.StatementsPerTx:0.#} statements/tx, CPU {used.Shares()}");
            return result;
        }
    }

    private const int SIGCONT = 18;
    private const int SIGSTOP = 19;

    private static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
