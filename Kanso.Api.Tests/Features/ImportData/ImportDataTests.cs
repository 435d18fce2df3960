using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Tests.Infrastructure;
using NodaTime;

namespace Kanso.Api.Tests.Features.ImportData;

public sealed class ImportDataTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const string Range = "start_date=2026-01-01&end_date=2026-02-14";

    [Fact]
    public async Task Export_then_import_into_a_fresh_account_gives_the_same_records_settings_stats_and_streaks()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 2, 15, 12, 0));
        var source = await CreateUserAsync("Europe/Rome");
        var ids = await SeedAsync(source.Client);
        var document = await ExportAsync(source.Client);
        var target = await CreateUserAsync("Europe/Rome");
        Protocol2(target.Client);
        var targetCursor = (string)(await target.Client.PullAsync(null))["cursor"]!;

        var imported = await (await ImportAsync(target.Client, document)).ShouldBeAsync(200);

        Assert.Equal(2, (int)document["format_version"]!);
        Assert.Equal("kanso", (string?)imported["format"]);
        Assert.Equal(ids.LiveHabits.Length, (int)imported["habits"]!["created"]!);
        Assert.Equal(ids.LiveEntries, (int)imported["entries"]!["created"]!);
        Assert.Equal(1, (int)imported["time_off"]!["created"]!);
        Assert.Equal("applied", (string?)imported["settings"]);
        Assert.Equal(0, (int)imported["habits"]!["conflicts"]! + (int)imported["entries"]!["conflicts"]! + (int)imported["time_off"]!["conflicts"]!);
        Assert.Equal(Comparable(await HabitsAsync(source.Client)), Comparable(await HabitsAsync(target.Client)));
        foreach (var habitId in ids.LiveHabits)
        {
            Assert.Equal(Comparable(await EntriesAsync(source.Client, habitId)), Comparable(await EntriesAsync(target.Client, habitId)));
        }

        // The skip, the entry of 01:30 that belongs to the day before (day start 03:00), the at_most goal and the time off came along.
        var daily = await EntriesAsync(target.Client, ids.LiveHabits[0]);
        Assert.Contains(daily.AsArray(), e => (string?)e!["kind"] == "skip" && (string?)e["local_date"] == "2026-01-21");
        Assert.Contains(daily.AsArray(), e => (string?)e!["completion_date"] == "2026-01-23T01:30:00.000000Z" && (string?)e["local_date"] == "2026-01-22");
        Assert.Equal("at_most", (string?)(await HabitsAsync(target.Client)).AsArray().Single(h => (string?)h!["id"] == ids.LiveHabits[3].ToString())!["goal"]);
        Assert.Equal(Comparable(await TimeOffAsync(source.Client)), Comparable(await TimeOffAsync(target.Client)));
        var settings = await (await target.Client.GetAsync("/api/v1/settings")).ShouldBeAsync(200);
        Assert.Equal("Europe/Rome", (string?)settings["timezone"]);
        Assert.Equal("03:00", (string?)settings["day_start"]);

        // Stats and streaks, once the worker has computed both accounts, are the same.
        await TestRows.EventuallyAsync(async () => await DirtyHabitsAsync(source.Id) + await DirtyHabitsAsync(target.Id) == 0, "the streak worker has computed both accounts");
        Assert.Equal(Stats(await StatsAsync(source.Client)), Stats(await StatsAsync(target.Client)));
        var streaks = Streaks(await HabitsAsync(source.Client));
        Assert.Equal(streaks, Streaks(await HabitsAsync(target.Client)));
        var dailyHabit = (await HabitsAsync(target.Client)).AsArray().Single(h => (string?)h!["id"] == ids.LiveHabits[0].ToString())!;
        Assert.True((int)dailyHabit["longest_streak"]! >= 20, $"the daily habit's streak was computed, not left at its default: {streaks}");

        // Another device of the target account receives the import through its next pull.
        var pulled = await target.Client.PullAsync(targetCursor, 1000);
        Assert.Equal(ids.LiveHabits.Length, pulled["habits"]!.AsArray().Count);
        Assert.Equal(ids.LiveEntries, pulled["entries"]!.AsArray().Count);
        Assert.Single(pulled["time_off"]!.AsArray());
        Assert.Equal("03:00", (string?)pulled["settings"]!["day_start"]);
    }

    [Fact]
    public async Task Imported_time_off_recomputes_the_streaks_of_the_habits_it_covers()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 2, 15, 12, 0));
        var user = await CreateUserAsync();
        Protocol2(user.Client);
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Stretch", start_date = "2026-02-01T00:00:00Z" });
        for (var day = 1; day <= 14; day++)
        {
            if (day != 10)
            {
                await user.Client.CreateEntryAsync(habit, $"2026-02-{day:00}T08:00:00Z");
            }
        }

        await TestRows.EventuallyAsync(async () => await DirtyHabitsAsync(user.Id) == 0, "the streak worker has computed the habit");
        Assert.Equal(4, await CurrentStreakAsync(user.Client, habit));
        var document = new JsonObject
        {
            ["format_version"] = 2,
            ["time_off"] = new JsonArray(new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["start_date"] = "2026-02-10", ["end_date"] = "2026-02-10" }),
        };

        var imported = await (await ImportAsync(user.Client, document)).ShouldBeAsync(200);

        Assert.Equal(1, (int)imported["time_off"]!["created"]!);
        await TestRows.EventuallyAsync(async () => await CurrentStreakAsync(user.Client, habit) == 13, "the day off no longer breaks the streak");
    }

    private static async Task<int> CurrentStreakAsync(HttpClient client, Guid habitId) =>
        (int)(await (await client.GetAsync($"/api/v1/habits/{habitId}")).ShouldBeAsync(200))["current_streak"]!;

    [Fact]
    public async Task A_format_1_document_is_read_and_its_entries_take_their_day_like_a_write()
    {
        var user = await CreateUserAsync();
        Protocol2(user.Client);
        await (await user.Client.PutAsJsonAsync("/api/v1/settings", new { day_start = "03:00", version = 1 })).ShouldBeAsync(200);
        var habitId = Guid.NewGuid();
        var entryId = Guid.NewGuid();
        var document = new JsonObject
        {
            ["format_version"] = 1,
            ["habits"] = new JsonArray(new JsonObject { ["id"] = habitId.ToString(), ["title"] = "From an earlier server" }),
            ["entries"] = new JsonArray(new JsonObject { ["id"] = entryId.ToString(), ["habit_id"] = habitId.ToString(), ["completion_date"] = "2026-03-08T23:30:00Z" }),
        };
        user.Client.DefaultRequestHeaders.Add("X-Timezone", "Europe/Rome");

        var imported = await (await ImportAsync(user.Client, document)).ShouldBeAsync(200);

        Assert.Equal(1, (int)imported["entries"]!["created"]!);
        Assert.Equal(0, (int)imported["time_off"]!["created"]!);
        Assert.Equal("absent", (string?)imported["settings"]);
        var entry = await (await user.Client.GetAsync($"/api/v1/entries/{entryId}")).ShouldBeAsync(200);
        Assert.Equal("2026-03-08", (string?)entry["local_date"]); // 00:30 on the 9th in Rome, before the 03:00 day start
        Assert.Equal("done", (string?)entry["kind"]);
        Assert.Equal(0, (int)(await (await ImportAsync(user.Client, document)).ShouldBeAsync(200))["entries"]!["created"]!);
    }

    [Fact]
    public async Task Importing_the_same_document_twice_changes_nothing()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 2, 15, 12, 0));
        var source = await CreateUserAsync("Europe/Rome");
        var ids = await SeedAsync(source.Client);
        var document = await ExportAsync(source.Client);
        var target = await CreateUserAsync();
        await (await ImportAsync(target.Client, document)).ShouldBeAsync(200);
        await TestRows.EventuallyAsync(async () => await DirtyHabitsAsync(target.Id) == 0, "the streak worker has computed the imported habits");
        var before = await ChangeSeqAsync(target.Id);

        var again = await (await ImportAsync(target.Client, document)).ShouldBeAsync(200);
        var intoSource = await (await ImportAsync(source.Client, document)).ShouldBeAsync(200);

        Assert.Equal(0, (int)again["habits"]!["created"]!);
        Assert.Equal(ids.LiveHabits.Length, (int)again["habits"]!["unchanged"]!);
        Assert.Equal(0, (int)again["entries"]!["created"]!);
        Assert.Equal(ids.LiveEntries, (int)again["entries"]!["unchanged"]!);
        Assert.Equal(0, (int)again["time_off"]!["created"]!);
        Assert.Equal(1, (int)again["time_off"]!["unchanged"]!);
        Assert.Equal("unchanged", (string?)again["settings"]);
        Assert.Empty(again["conflict_ids"]!.AsArray());
        Assert.Equal(before, await ChangeSeqAsync(target.Id));
        Assert.Equal(0, (int)intoSource["habits"]!["created"]! + (int)intoSource["habits"]!["conflicts"]!);
        Assert.Equal(0, (int)intoSource["time_off"]!["created"]! + (int)intoSource["time_off"]!["conflicts"]!);
        Assert.Equal("unchanged", (string?)intoSource["settings"]);
    }

    [Fact]
    public async Task A_record_that_exists_with_other_content_is_reported_and_not_overwritten()
    {
        var source = await CreateUserAsync();
        var ids = await SeedAsync(source.Client);
        var document = await ExportAsync(source.Client);
        var target = await CreateUserAsync();
        await (await ImportAsync(target.Client, document)).ShouldBeAsync(200);
        var habitId = ids.LiveHabits[0];
        await (await target.Client.PutAsJsonAsync($"/api/v1/habits/{habitId}", new { title = "Renamed on the target", version = 1 })).ShouldBeAsync(200);

        var again = await (await ImportAsync(target.Client, document)).ShouldBeAsync(200);

        Assert.Equal(1, (int)again["habits"]!["conflicts"]!);
        Assert.Equal(habitId.ToString(), (string?)again["conflict_ids"]![0]);
        var stored = await (await target.Client.GetAsync($"/api/v1/habits/{habitId}")).ShouldBeAsync(200);
        Assert.Equal("Renamed on the target", (string?)stored["title"]);
    }

    [Fact]
    public async Task Time_off_and_settings_the_account_changed_are_reported_and_kept()
    {
        var source = await CreateUserAsync("Europe/Rome");
        var ids = await SeedAsync(source.Client);
        var document = await ExportAsync(source.Client);
        var target = await CreateUserAsync();
        Protocol2(target.Client);
        await (await ImportAsync(target.Client, document)).ShouldBeAsync(200);
        await (await target.Client.PutAsJsonAsync($"/api/v1/time-off/{ids.TimeOff}", new { note = "Changed on the target", version = 1 })).ShouldBeAsync(200);
        await (await target.Client.PutAsJsonAsync("/api/v1/settings", new { day_start = "05:00", version = 2 })).ShouldBeAsync(200);

        // Both writes queue streak recomputes, which take change numbers of their own: let them finish first.
        await TestRows.EventuallyAsync(async () => await DirtyHabitsAsync(target.Id) == 0, "the streak worker has recomputed the target's habits");
        var before = await ChangeSeqAsync(target.Id);

        var again = await (await ImportAsync(target.Client, document)).ShouldBeAsync(200);

        Assert.Equal(1, (int)again["time_off"]!["conflicts"]!);
        Assert.Equal(0, (int)again["time_off"]!["created"]!);
        Assert.Equal([ids.TimeOff.ToString()], again["conflict_ids"]!.AsArray().Select(id => (string?)id));
        Assert.Equal("conflict", (string?)again["settings"]);
        Assert.Equal(before, await ChangeSeqAsync(target.Id));
        var timeOff = await (await target.Client.GetAsync($"/api/v1/time-off/{ids.TimeOff}")).ShouldBeAsync(200);
        Assert.Equal("Changed on the target", (string?)timeOff["note"]);
        var settings = await (await target.Client.GetAsync("/api/v1/settings")).ShouldBeAsync(200);
        Assert.Equal("05:00", (string?)settings["day_start"]);
        Assert.Equal("Europe/Rome", (string?)settings["timezone"]);
    }

    [Fact]
    public async Task An_invalid_record_refuses_the_whole_import()
    {
        var user = await CreateUserAsync();
        var document = new JsonObject
        {
            ["format_version"] = 1,
            ["habits"] = new JsonArray(
                new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["title"] = "Fine" },
                new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["title"] = "", ["color"] = "red" }),
            ["entries"] = new JsonArray(new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["habit_id"] = Guid.NewGuid().ToString(), ["completion_date"] = "2026-01-01T10:00:00Z" }),
            ["time_off"] = new JsonArray(
                new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["start_date"] = "2026-02-10", ["end_date"] = "2026-02-01" },
                new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["start_date"] = "2026-02-01", ["end_date"] = "2026-02-02", ["habit_ids"] = new JsonArray() }),
            ["settings"] = new JsonObject { ["timezone"] = "Mars/Olympus", ["day_start"] = "07:00" },
        };

        var response = await ImportAsync(user.Client, document);

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(body["errors"]!["habits[1].title"]);
        Assert.NotNull(body["errors"]!["habits[1].color"]);
        Assert.NotNull(body["errors"]!["time_off[0].end_date"]);
        Assert.NotNull(body["errors"]!["time_off[1].habit_ids"]);
        Assert.NotNull(body["errors"]!["settings.timezone"]);
        Assert.NotNull(body["errors"]!["settings.day_start"]);
        Assert.Empty((await HabitsAsync(user.Client)).AsArray());
    }

    [Fact]
    public async Task An_entry_of_an_unknown_habit_refuses_the_whole_import()
    {
        var user = await CreateUserAsync();
        var document = new JsonObject
        {
            ["format_version"] = 1,
            ["habits"] = new JsonArray(new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["title"] = "Fine" }),
            ["entries"] = new JsonArray(new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["habit_id"] = Guid.NewGuid().ToString(), ["completion_date"] = "2026-01-01T10:00:00Z" }),
        };

        var body = await (await ImportAsync(user.Client, document)).ShouldBeProblemAsync(400, "validation failed");

        Assert.NotNull(body["errors"]!["entries[0].habit_id"]);
        Assert.Empty((await HabitsAsync(user.Client)).AsArray());
    }

    [Fact]
    public async Task A_document_over_a_mebibyte_is_accepted_and_other_bodies_are_refused()
    {
        var user = await CreateUserAsync();
        var habitId = Guid.NewGuid();
        var entries = new JsonArray();
        for (var i = 0; i < 8000; i++)
        {
            entries.Add(new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["habit_id"] = habitId.ToString(), ["value"] = 1,
                ["completion_date"] = Instant.FromUtc(2025, 1, 1, 8, 0).Plus(Duration.FromMinutes(i)).ToString(),
                ["notes"] = "a note long enough to make this document weigh more than one mebibyte in total",
            });
        }

        var document = new JsonObject { ["format_version"] = 1, ["habits"] = new JsonArray(new JsonObject { ["id"] = habitId.ToString(), ["title"] = "Big" }), ["entries"] = entries };
        Assert.True(Encoding.UTF8.GetByteCount(document.ToJsonString()) > 1024 * 1024);

        var big = await (await ImportAsync(user.Client, document)).ShouldBeAsync(200);
        var wrongVersion = await ImportAsync(user.Client, new JsonObject { ["format_version"] = 3 });
        var text = await user.Client.PostAsync("/api/v1/import", new StringContent("hello", Encoding.UTF8, "text/plain"));
        var notJson = await user.Client.PostAsync("/api/v1/import", new StringContent("{\"format_version\": 1, \"habits\": [", Encoding.UTF8, "application/json"));
        var notZip = await user.Client.PostAsync("/api/v1/import", new ByteArrayContent([1, 2, 3]) { Headers = { ContentType = new MediaTypeHeaderValue("application/zip") } });

        Assert.Equal(8000, (int)big["entries"]!["created"]!);
        await wrongVersion.ShouldBeProblemAsync(400, "validation failed");
        await text.ShouldBeProblemAsync(415);
        await notJson.ShouldBeProblemAsync(400);
        await notZip.ShouldBeProblemAsync(400, "invalid loop export");
    }

    [Fact]
    public async Task A_loop_csv_export_imports_its_habits_schedules_and_checkmarks()
    {
        Factory.Clock.Reset(Instant.FromUtc(2026, 2, 15, 12, 0));
        var user = await CreateUserAsync();
        user.Client.DefaultRequestHeaders.Add("X-Timezone", "Europe/Rome");
        var zip = LoopExport();

        var imported = await (await user.Client.PostAsync("/api/v1/import", Zip(zip))).ShouldBeAsync(200);
        var again = await (await user.Client.PostAsync("/api/v1/import", Zip(zip))).ShouldBeAsync(200);

        Assert.Equal("loop", (string?)imported["format"]);
        Assert.Equal(4, (int)imported["habits"]!["created"]!);
        Assert.Equal(7, (int)imported["entries"]!["created"]!);
        Assert.Equal(0, (int)again["habits"]!["created"]! + (int)again["entries"]!["created"]!);
        Assert.Equal(7, (int)again["entries"]!["unchanged"]!);

        var habits = (await HabitsAsync(user.Client)).AsArray().ToDictionary(h => (string)h!["title"]!);
        Assert.Equal(["Call mom", "Meditate", "Run, outside", "Wake up early"], habits.Keys.Order());
        var wake = habits["Wake up early"]!;
        Assert.Equal("daily", (string?)wake["frequency_type"]);
        Assert.Equal("#D32F2F", (string?)wake["color"]);
        Assert.Equal("Did you wake up early today?", (string?)wake["description"]);
        Assert.Equal("2026-01-02T23:00:00.000000Z", (string?)wake["start_date"]); // 3 January, Rome
        var run = habits["Run, outside"]!;
        Assert.Equal("weekly", (string?)run["frequency_type"]);
        Assert.Equal(3, (int)run["times_per_week"]!);
        Assert.Equal("Three times a week, any days", (string?)run["description"]);
        Assert.Equal("interval", (string?)habits["Call mom"]!["frequency_type"]);
        Assert.Equal(3, (int)habits["Call mom"]!["interval"]!);
        Assert.Equal("weekly", (string?)habits["Meditate"]!["frequency_type"]);
        Assert.Equal(1, (int)habits["Meditate"]!["times_per_week"]!);

        // Only explicit checks (2) are entries, at noon of their day in the user's zone.
        var wakeEntries = await EntriesAsync(user.Client, Guid.Parse((string)wake["id"]!));
        Assert.Equal(["2026-01-03T11:00:00.000000Z", "2026-01-05T11:00:00.000000Z", "2026-01-06T11:00:00.000000Z"],
            wakeEntries.AsArray().Select(e => (string)e!["completion_date"]!).Order());
        Assert.Equal(2, (await EntriesAsync(user.Client, Guid.Parse((string)run["id"]!))).AsArray().Count);
    }

    /// <summary>A zip as Loop's "Export as CSV" writes it (uhabits HabitsCSVExporter): Habits.csv, per-habit folders, the root summaries.</summary>
    private static byte[] LoopExport()
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create))
        {
            void Add(string path, string text)
            {
                using var writer = new StreamWriter(zip.CreateEntry(path).Open(), new UTF8Encoding(false));
                writer.Write(text);
            }

            Add("Habits.csv", """
                Position,Name,Question,Description,NumRepetitions,Interval,Color
                001,Wake up early,Did you wake up early today?,,1,1,#D32F2F
                002,"Run, outside",Did you run today?,"Three times a week, any days",3,7,#1976D2
                003,Call mom,Did you call mom?,,1,3,#388E3C
                004,Meditate,,,2,30,#F57C00

                """.Replace("\n", "\r\n"));
            Add("001 Wake up early/Checkmarks.csv", "2026-01-07,0\n2026-01-06,2\n2026-01-05,2\n2026-01-04,3\n2026-01-03,2\n");
            Add("001 Wake up early/Scores.csv", "2026-01-07,0.1234\n2026-01-06,0.1000\n");
            Add("002 Run outside/Checkmarks.csv", "2026-01-08,1\n2026-01-07,2\n2026-01-06,1\n2026-01-05,2\n2026-01-04,0\n");
            Add("002 Run outside/Scores.csv", "2026-01-08,0.0500\n");
            Add("003 Call mom/Checkmarks.csv", "2026-01-09,2\n2026-01-08,1\n2026-01-07,-1\n");
            Add("003 Call mom/Scores.csv", "2026-01-09,0.0200\n");
            Add("004 Meditate/Checkmarks.csv", "2026-01-10,2\n");
            Add("004 Meditate/Scores.csv", "2026-01-10,0.0100\n");
            Add("Checkmarks.csv", "Date,Wake up early,\"Run, outside\",Call mom,Meditate,\n2026-01-10,0,0,0,2,\n");
            Add("Scores.csv", "Date,Wake up early,\"Run, outside\",Call mom,Meditate,\n2026-01-10,0.1,0.05,0.02,0.01,\n");
        }

        return stream.ToArray();
    }

    private static ByteArrayContent Zip(byte[] bytes) => new(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/zip") } };

    private sealed record Seeded(Guid[] LiveHabits, int LiveEntries, Guid TimeOff);

    private static void Protocol2(HttpClient client) => client.DefaultRequestHeaders.Add("Kanso-Protocol", "2");

    /// <summary>
    /// Four live habits of every shape (one at_most) with entries (one a skip, one before the 03:00 day
    /// start), time off, a day start, plus a deleted habit and a deleted entry (not exported).
    /// </summary>
    private static async Task<Seeded> SeedAsync(HttpClient client)
    {
        Protocol2(client);
        await (await client.PutAsJsonAsync("/api/v1/settings", new { day_start = "03:00", version = 1 })).ShouldBeAsync(200);
        var daily = await client.CreateHabitIdAsync(new { title = "Read", description = "=1+1 is not a formula", color = "#4A90E2", icon = "book", start_date = "2026-01-01T00:00:00+01:00", reminder_time = "07:30" });
        var weekdays = await client.CreateHabitIdAsync(new { title = "Gym", frequency_type = "specific_days", weekdays = new[] { 5, 1, 3 }, start_date = "2026-01-01T00:00:00Z" });
        var weekly = await client.CreateHabitIdAsync(new { title = "Water", type = "numeric", target_value = 8, unit = "glasses", frequency_type = "weekly", times_per_week = 5, start_date = "2026-01-01T00:00:00Z", sort_order = 2 });
        var gone = await client.CreateHabitIdAsync(new { title = "Gone" });
        var entries = 0;
        for (var day = 1; day <= 20; day++)
        {
            var date = $"2026-01-{day:00}T07:30:00Z";
            await client.CreateEntryAsync(daily, date);
            entries++;
            if (day % 2 == 0)
            {
                await client.CreateEntryAsync(weekdays, date);
                await client.CreateEntryAsync(weekly, date, value: day % 3 == 0 ? 8 : 4.5);
                entries += 2;
            }
        }

        var sweets = await client.CreateHabitIdAsync(new { title = "Sweets", type = "numeric", target_value = 2, unit = "pieces", goal = "at_most", start_date = "2026-01-01T00:00:00Z" });
        for (var day = 1; day <= 28; day += 3)
        {
            await client.CreateEntryAsync(sweets, $"2026-01-{day:00}T15:00:00Z", value: day == 10 ? 3 : 1);
            entries++;
        }

        await (await client.PostJsonAsync("/api/v1/entries", new { habit_id = daily, completion_date = "2026-01-21T07:30:00Z", kind = "skip" })).ShouldBeAsync(201);
        await client.CreateEntryAsync(daily, "2026-01-23T01:30:00Z");
        entries += 2;
        var timeOff = await (await client.PostJsonAsync("/api/v1/time-off", new
        {
            start_date = "2026-01-26", end_date = "2026-02-01", habit_ids = new[] { daily, weekly }, note = "Ski trip",
        })).ShouldBeAsync(201);

        var deleted = await client.CreateEntryIdAsync(daily, "2026-01-25T07:30:00Z");
        (await client.DeleteAsync($"/api/v1/entries/{deleted}")).EnsureSuccessStatusCode();
        await client.CreateEntryAsync(gone, "2026-01-02T07:30:00Z");
        (await client.DeleteAsync($"/api/v1/habits/{gone}")).EnsureSuccessStatusCode();
        return new Seeded([daily, weekdays, weekly, sweets], entries, Guid.Parse((string)timeOff["id"]!));
    }

    private static async Task<JsonObject> ExportAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/v1/export");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (await response.ShouldBeAsync(200)).AsObject();
    }

    private static Task<HttpResponseMessage> ImportAsync(HttpClient client, JsonNode document) =>
        client.PostAsync("/api/v1/import", new StringContent(document.ToJsonString(), Encoding.UTF8, "application/json"));

    private static async Task<JsonNode> HabitsAsync(HttpClient client) => await (await client.GetAsync("/api/v1/habits")).ShouldBeAsync(200);

    private static async Task<JsonNode> EntriesAsync(HttpClient client, Guid habitId) =>
        await (await client.GetAsync($"/api/v1/entries?habit_id={habitId}&from=2025-01-01T00:00:00Z&to=2027-01-01T00:00:00Z")).ShouldBeAsync(200);

    private static async Task<JsonNode> TimeOffAsync(HttpClient client) => await (await client.GetAsync("/api/v1/time-off")).ShouldBeAsync(200);

    private static async Task<JsonNode> StatsAsync(HttpClient client) => await (await client.GetAsync($"/api/v1/stats/weekly?{Range}")).ShouldBeAsync(200);

    /// <summary>The records as both accounts must hold them: everything but the import's own updated_at and the recomputed streaks.</summary>
    private static string Comparable(JsonNode list) =>
        string.Join('\n', list.AsArray().Select(r =>
        {
            var copy = r!.DeepClone().AsObject();
            copy.Remove("updated_at");
            copy.Remove("current_streak");
            copy.Remove("longest_streak");
            return copy.ToJsonString();
        }).Order());

    private static string Stats(JsonNode stats) => stats.ToJsonString();

    /// <summary>Each habit's computed streaks, in the habit list's order.</summary>
    private static string Streaks(JsonNode habits) =>
        string.Join('\n', habits.AsArray().Select(h => new JsonObject
        {
            ["id"] = (string?)h!["id"], ["current_streak"] = (int?)h["current_streak"], ["longest_streak"] = (int?)h["longest_streak"],
        }.ToJsonString()));

    private async Task<long> DirtyHabitsAsync(Guid userId)
    {
        await using var db = await OpenDatabaseAsync();
        return await db.ExecuteScalarAsync<long>("SELECT count(*) FROM habits WHERE user_id = @userId AND streak_dirty", new { userId });
    }

    private async Task<long> ChangeSeqAsync(Guid userId)
    {
        await using var db = await OpenDatabaseAsync();
        return await db.ExecuteScalarAsync<long>("SELECT change_seq FROM users WHERE id = @userId", new { userId });
    }
}
