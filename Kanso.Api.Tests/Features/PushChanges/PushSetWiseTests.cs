using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Features.PushChanges;
using Kanso.Api.Infrastructure.Observability;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Kanso.Api.Tests.Features.PushChanges;

/// <summary>
/// A run of entry creates applied set-wise (<see cref="PushChangesCreateRun"/>) answers, stores and
/// numbers exactly what applying it one by one does, in a constant number of round trips. The
/// tests run on the shared database (distributed on Citus) and drive <see cref="PushChangesBatch"/>
/// as the endpoint does; each push reads the user's rows and clears the streak marks inside its own
/// transaction, so the streak worker never stamps change numbers of its own between two comparisons.
/// </summary>
public sealed class PushSetWiseTests(ApiFixture fixture) : ApiTest(fixture)
{
    private static readonly ActivitySource TestSource = new("Kanso.Api.Tests.PushSetWise");

    private static readonly string[] Zones = ["UTC", "Pacific/Kiritimati", "America/New_York", "Asia/Kolkata"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Random_pushes_answer_store_number_and_pull_the_same_set_wise_as_one_by_one(int seed)
    {
        var host = Factory;
        var random = new Random(seed);
        var dayStart = random.Next(3) * 150;
        var setWise = await CreateUserAsync(dayStart);
        var oneByOne = await CreateUserAsync(dayStart);
        var scenario = new Scenario(random);
        await using (var db = await host.OpenAppDatabaseAsync())
        {
            foreach (var user in new[] { setWise, oneByOne })
            {
                foreach (var (habit, deleted) in scenario.InitialHabits)
                {
                    await db.InsertHabitAsync(user.Id, new TestHabit { Id = habit, DeletedAt = deleted ? Instant.FromUtc(2026, 2, 1, 0, 0) : null });
                }
            }
        }

        var (runs, unchanged) = (0, 0);
        for (var p = 0; p < 14; p++)
        {
            var push = scenario.NextPush();
            var zone = Zones[random.Next(Zones.Length)];
            var protocol = random.Next(1, 3);
            var a = await PushAsync(host, setWise.Id, push, setWise: true, zone, protocol);
            var b = await PushAsync(host, oneByOne.Id, push, setWise: false, zone, protocol);

            var what = $"push {p} of seed {seed}:\n{new JsonArray([.. push.Select(m => m.DeepClone())]).ToJsonString()}";
            Assert.True(a.Results == b.Results, $"results differ on {what}\nset-wise:   {a.Results}\none by one: {b.Results}");
            Assert.True((a.LastChange, a.Position) == (b.LastChange, b.Position), $"positions differ on {what}: {(a.LastChange, a.Position)} vs {(b.LastChange, b.Position)}");
            Assert.True(a.StreakHabits.SetEquals(b.StreakHabits), $"streak habits differ on {what}");
            Assert.Equal(b.Replayed, a.Replayed);
            Assert.Equal(0, b.Runs);
            Assert.Equal(0, a.RunsOneByOne);
            runs += a.Runs;
            unchanged += a.RunsUnchanged;
            Assert.Equal(b.Rows, a.Rows);
        }

        // The set-wise path did run (else this test would compare the old path with itself), also on
        // creates that change nothing (an id that exists, a habit missing or deleted).
        Assert.True(runs > 0, "no push of the scenario formed a run");
        Assert.True(unchanged > 0, "no run held a create that changes nothing");
        Assert.Equal(await PullAsync(oneByOne.Client), await PullAsync(setWise.Client));
    }

    [Fact]
    public async Task A_row_the_database_refuses_fails_only_its_own_mutation_of_a_run()
    {
        var user = await CreateUserAsync(dayStart: 0);
        var habit = Guid.NewGuid();
        await using var db = await Factory.OpenAppDatabaseAsync();
        await db.InsertHabitAsync(user.Id, new TestHabit { Id = habit });
        var ids = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToArray();
        var push = ids.Select((id, i) => Create($"m{i}", id, habit, "2026-03-08T07:00:00Z", notes: i == 2 ? "refuse me" : $"note {i}")).ToArray();
        var before = await db.ReadUserChangeSeqAsync(user.Id);

        // A rule of the schema the validators do not mirror, for this push only: as if one slipped through.
        await db.ExecuteAsync("ALTER TABLE habit_entries ADD CONSTRAINT refuse_test_note CHECK (notes IS DISTINCT FROM 'refuse me') NOT VALID");
        Pushed pushed;
        try
        {
            pushed = await PushAsync(Factory, user.Id, push, setWise: true, "UTC", protocol: 2);
        }
        finally
        {
            await db.ExecuteAsync("ALTER TABLE habit_entries DROP CONSTRAINT refuse_test_note");
        }

        var results = JsonNode.Parse(pushed.Results)!.AsArray();
        Assert.Equal(new[] { "applied", "applied", "rejected", "applied", "applied" }, results.Select(r => (string)r!["status"]!));
        Assert.NotNull(results[2]!["errors"]!["data"]);
        Assert.Equal((1, 1), (pushed.Runs, pushed.RunsOneByOne));
        // Only the four applied rows, with the next four numbers in mutation order: the refused row left no trace, not even a number.
        var rows = (await db.QueryAsync<(Guid Id, long ChangeSeq)>("SELECT id, change_seq FROM habit_entries WHERE user_id = @id ORDER BY change_seq", new { id = user.Id })).ToList();
        Assert.Equal(new[] { (ids[0], before + 1), (ids[1], before + 2), (ids[3], before + 3), (ids[4], before + 4) }, rows);
        Assert.Equal(before + 4, await db.ReadUserChangeSeqAsync(user.Id));
        Assert.Equal(before + 4, pushed.LastChange);
        Assert.Equal(
            new[] { "applied", "applied", "rejected", "applied", "applied" },
            (await db.QueryAsync<string>("SELECT result->>'status' FROM sync_mutations WHERE user_id = @id ORDER BY mutation_id", new { id = user.Id })).ToList());
    }

    [Fact]
    public async Task A_push_of_50_entry_creates_takes_5_round_trips_set_wise_where_one_by_one_takes_202()
    {
        var host = Factory;
        var setWise = await CreateUserAsync(dayStart: 0);
        var oneByOne = await CreateUserAsync(dayStart: 0);
        var habits = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToArray();
        await using (var db = await host.OpenAppDatabaseAsync())
        {
            foreach (var habit in habits)
            {
                await db.InsertHabitAsync(setWise.Id, new TestHabit { Id = habit });
                await db.InsertHabitAsync(oneByOne.Id, new TestHabit { Id = habit });
            }
        }

        // The bench's push: 50 creates of new entries, each on one of the user's 10 habits.
        var push = Enumerable.Range(0, 50)
            .Select(i => Create($"m{i}", Guid.NewGuid(), habits[i % 10], $"2026-03-{1 + (i % 28):00}T07:00:00Z", value: i % 3))
            .ToArray();

        var a = await PushAsync(host, setWise.Id, push, setWise: true, "UTC", protocol: 2);
        var b = await PushAsync(host, oneByOne.Id, push, setWise: false, "UTC", protocol: 2);

        // Begin (lock and stored results), then per create: savepoint, find, change number, insert; Remember.
        Assert.Equal(1 + (50 * 4) + 1, b.Commands);
        // Begin; the run: savepoint and find, 50 change numbers, one insert; Remember.
        Assert.Equal(1 + 3 + 1, a.Commands);
        Assert.Equal(a.Results, b.Results);
        Assert.Equal(b.LastChange, a.LastChange);
    }

    private static JsonObject Create(string mutationId, Guid id, Guid habit, string completionDate, string? notes = null, double? value = null)
    {
        var data = new JsonObject { ["habit_id"] = habit.ToString(), ["completion_date"] = completionDate };
        if (notes is not null)
        {
            data["notes"] = notes;
        }

        if (value is not null)
        {
            data["value"] = value;
        }

        return new JsonObject { ["mutation_id"] = mutationId, ["op"] = "upsert_entry", ["id"] = id.ToString(), ["data"] = data };
    }

    private async Task<TestUser> CreateUserAsync(int dayStart)
    {
        var user = await CreateUserAsync();
        await using var db = await OpenDatabaseAsync();
        await db.ExecuteAsync("UPDATE users SET day_start_minutes = @dayStart WHERE id = @id", new { dayStart, id = user.Id });
        return user;
    }

    private sealed record Pushed(string Results, long LastChange, long Position, HashSet<Guid> StreakHabits, int[] Replayed, int Commands, int Runs, int RunsOneByOne, string Rows)
    {
        /// <summary>Mutations in set-wise runs that did not insert (an existing id, or no live habit).</summary>
        public int RunsUnchanged { get; init; }
    }

    /// <summary>
    /// Runs one push through <see cref="PushChangesBatch"/> as the endpoint does, counting its database
    /// commands and runs; then, in the same transaction, reads the user's rows and clears their streak marks (as a recompute would).
    /// </summary>
    private static async Task<Pushed> PushAsync(KansoApiFactory host, Guid userId, IEnumerable<JsonObject> push, bool setWise, string zone, int protocol)
    {
        var json = host.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var mutations = push.Select(m => PushMutation.Parse(JsonSerializer.SerializeToElement(m), json, protocol)).ToList();
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Npgsql" || source == TestSource || source == KansoDiagnostics.ActivitySource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        PushResult[] results;
        PushChangesBatch batch;
        ActivityTraceId trace;
        string rows;
        await using (var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        {
            using var root = TestSource.StartActivity("push")!;
            trace = root.TraceId;
            await using var transaction = await connection.BeginTransactionAsync();
            batch = new PushChangesBatch(connection, transaction, userId, host.Clock.GetCurrentInstant(), json, CancellationToken.None)
            {
                Zone = DateTimeZoneProviders.Tzdb[zone],
                Protocol = protocol,
                SetWise = setWise,
            };
            results = (await batch.RunAsync(mutations))!;
            root.Stop();
            rows = await RowsAsync(connection, transaction, userId);
            await connection.ExecuteAsync("UPDATE habits SET streak_dirty = false, streak_dirty_from = NULL WHERE user_id = @userId AND streak_dirty", new { userId }, transaction);
            await transaction.CommitAsync();
        }

        var mine = activities.Where(a => a.TraceId == trace).ToList();
        var runs = mine.Where(a => a.OperationName == "kanso.push.run").ToList();
        return new Pushed(
            Masked(JsonSerializer.SerializeToNode(results, json)!),
            batch.LastChange,
            batch.Position,
            batch.StreakHabits,
            [.. batch.Replayed.Order()],
            // One span per command (one round trip); BEGIN rides with the first, COMMIT has none.
            mine.Count(a => a.Source.Name == "Npgsql"),
            runs.Count,
            runs.Count(a => a.GetTagItem("kanso.run.one_by_one") is true),
            rows)
        {
            RunsUnchanged = runs.Sum(a => (int)a.GetTagItem("kanso.run.mutations")! - (a.GetTagItem("kanso.run.created") as int? ?? 0)),
        };
    }

    /// <summary>Every row of the user as text, without what differs between two users or two clocks (user_id, instants of writes).</summary>
    private static async Task<string> RowsAsync(NpgsqlConnection db, NpgsqlTransaction transaction, Guid userId)
    {
        const string Unstamped = "- 'user_id' - 'created_at' - 'updated_at' - 'deleted_at' || jsonb_build_object('deleted', deleted_at IS NOT NULL)";
        var rows = await db.QueryAsync<string>($"""
            SELECT 'u ' || change_seq FROM users WHERE id = @userId
            UNION ALL SELECT 'h ' || (to_jsonb(h) {Unstamped})::text FROM habits h WHERE user_id = @userId
            UNION ALL SELECT 'e ' || (to_jsonb(e) {Unstamped})::text FROM habit_entries e WHERE user_id = @userId
            ORDER BY 1
            """, new { userId }, transaction);
        var stored = await db.QueryAsync<(string MutationId, byte[] Hash, string Result)>(
            "SELECT mutation_id, request_hash, result::text FROM sync_mutations WHERE user_id = @userId ORDER BY mutation_id", new { userId }, transaction);
        return string.Join('\n', rows.Concat(stored.Select(s => $"m {s.MutationId} {Convert.ToHexString(s.Hash)} {Masked(JsonNode.Parse(s.Result)!)}")));
    }

    /// <summary>Every page of a full pull in small pages, cursors and instants of writes masked.</summary>
    private static async Task<string> PullAsync(HttpClient client)
    {
        var copy = new LocalCopy();
        var pages = await client.PullAllAsync(copy, limit: 7);
        var first = await client.PullAsync(null, limit: 1000);
        return string.Join('\n', pages.Append(first).Select(page =>
        {
            page.AsObject().Remove("cursor");
            return Masked(page);
        }));
    }

    /// <summary>The JSON with the instants a write stamps (created_at, updated_at, deleted_at) replaced by whether they are set.</summary>
    private static string Masked(JsonNode node)
    {
        Mask(node);
        return node.ToJsonString();

        static void Mask(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var key in o.Select(p => p.Key).ToList())
                    {
                        if (key is "created_at" or "updated_at" or "deleted_at")
                        {
                            o[key] = o[key] is null ? null : "set";
                        }
                        else
                        {
                            Mask(o[key]);
                        }
                    }

                    break;
                case JsonArray a:
                    foreach (var item in a)
                    {
                        Mask(item);
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Random pushes over a few habits (live, deleted, missing, created by the pushes): runs of entry
    /// creates on valid and invalid habits, ids that exist (a harmless repeat or an edit believed new),
    /// the same id twice in a push, updates and deletes, habit creates and deletes, reused
    /// mutation ids, rejected mutations, and retries of whole pushes.
    /// </summary>
    private sealed class Scenario(Random random)
    {
        private readonly List<Guid> _habits = [];
        private readonly Dictionary<Guid, JsonObject> _entries = [];
        private readonly List<JsonObject[]> _sent = [];
        private readonly List<JsonObject> _sentMutations = [];
        private int _mutationIds;

        public List<(Guid Id, bool Deleted)> InitialHabits { get; } = BuildInitial(random);

        private static List<(Guid, bool)> BuildInitial(Random random) =>
            [.. Enumerable.Range(0, 6).Select(i => (new Guid(random.Next(), 0, 0, [.. BitConverter.GetBytes(random.NextInt64())]), i == 5))];

        public JsonObject[] NextPush()
        {
            if (_habits.Count == 0)
            {
                _habits.AddRange(InitialHabits.Select(h => h.Id));
                _habits.Add(NewId()); // no such habit
            }

            if (_sent.Count > 0 && random.Next(6) == 0)
            {
                // A retry of a whole push whose answer was lost.
                return [.. _sent[random.Next(_sent.Count)].Select(m => (JsonObject)m.DeepClone())];
            }

            var count = random.Next(8) == 0 ? random.Next(40, 80) : random.Next(1, 25);
            var push = new List<JsonObject>();
            while (push.Count < count)
            {
                var roll = random.Next(100);
                JsonObject mutation = roll switch
                {
                    < 58 => EntryCreate(push),
                    < 66 => Mutation("upsert_entry", AnyEntry(), random.Next(1, 4), new JsonObject { ["value"] = random.Next(0, 6) }),
                    < 74 => Mutation("delete_entry", AnyEntry(), random.Next(3), null),
                    < 80 => HabitCreate(),
                    < 83 => Mutation("delete_habit", _habits[random.Next(_habits.Count)], 0, null),
                    < 92 when _sentMutations.Count > 0 => Reused(),
                    _ => Mutation("upsert_entry", NewId(), 0, new JsonObject { ["completion_date"] = "2026-03-08T07:00:00Z" }), // no habit_id: rejected
                };
                push.Add(mutation);
            }

            _sent.Add([.. push.Select(m => (JsonObject)m.DeepClone())]);
            _sentMutations.AddRange(push.Select(m => (JsonObject)m.DeepClone()));
            return [.. push];
        }

        private JsonObject EntryCreate(List<JsonObject> push)
        {
            var fromThisPush = push.Where(m => (string?)m["op"] == "upsert_entry" && _entries.ContainsKey(Guid.Parse((string)m["id"]!))).ToList();
            Guid id;
            JsonObject data;
            if (_entries.Count > 0 && random.Next(7) == 0 || fromThisPush.Count > 0 && random.Next(10) == 0)
            {
                // An id that exists (or was created earlier in this push): the same data (a harmless repeat) or other data.
                id = fromThisPush.Count > 0 && random.Next(2) == 0 ? Guid.Parse((string)fromThisPush[random.Next(fromThisPush.Count)]["id"]!) : AnyEntry();
                data = (JsonObject)_entries[id].DeepClone();
                if (random.Next(2) == 0)
                {
                    data["value"] = random.Next(0, 6);
                }
            }
            else
            {
                id = NewId();
                data = new JsonObject
                {
                    ["habit_id"] = _habits[random.Next(_habits.Count)].ToString(),
                    // Sometimes finer than the microseconds stored: a repeat must match after the same truncation.
                    ["completion_date"] = NodaTime.Text.InstantPattern.ExtendedIso.Format(Instant.FromUtc(2026, 3, 1, 0, 0)
                        .Plus(Duration.FromMinutes(random.Next(0, 60 * 24 * 20)))
                        .Plus(random.Next(3) == 0 ? Duration.FromTicks(random.Next(10_000_000)) : Duration.Zero)),
                };
                if (random.Next(3) == 0)
                {
                    data["value"] = random.Next(0, 4) * 1.5;
                }

                if (random.Next(4) == 0)
                {
                    data["notes"] = random.Next(2) == 0 ? null : $"note {random.Next(100)}";
                }

                if (random.Next(5) == 0)
                {
                    data["local_date"] = $"2026-03-{random.Next(1, 29):00}";
                }

                if (random.Next(6) == 0)
                {
                    data["kind"] = "skip";
                }

                _entries[id] = (JsonObject)data.DeepClone();
            }

            return Mutation("upsert_entry", id, 0, data);
        }

        private JsonObject HabitCreate()
        {
            var id = NewId();
            _habits.Add(id);
            return Mutation("upsert_habit", id, 0, new JsonObject { ["title"] = $"Habit {random.Next(100)}" });
        }

        private JsonObject Reused()
        {
            var earlier = (JsonObject)_sentMutations[random.Next(_sentMutations.Count)].DeepClone();
            if (random.Next(3) == 0)
            {
                earlier["id"] = NewId().ToString(); // the same mutation_id for another mutation: rejected
            }

            return earlier;
        }

        private JsonObject Mutation(string op, Guid id, int version, JsonObject? data)
        {
            var mutation = new JsonObject { ["mutation_id"] = $"m{_mutationIds++}", ["op"] = op, ["id"] = id.ToString() };
            if (version != 0 || random.Next(2) == 0)
            {
                mutation["version"] = version;
            }

            if (data is not null)
            {
                mutation["data"] = data;
            }

            return mutation;
        }

        private Guid AnyEntry() => _entries.Count == 0 ? NewId() : _entries.Keys.ElementAt(random.Next(_entries.Count));

        private Guid NewId() => new(random.Next(), 0, 0, [.. BitConverter.GetBytes(random.NextInt64())]);
    }
}
