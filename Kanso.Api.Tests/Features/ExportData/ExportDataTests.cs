using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Kanso.Api.Tests.Features.ExportData;

public sealed class ExportDataTests(ApiFixture fixture, ITestOutputHelper output) : ApiTest(fixture)
{
    [Fact]
    public async Task The_json_export_holds_the_user_and_every_live_record_and_nothing_of_other_accounts()
    {
        var user = await CreateUserAsync("Europe/Rome");
        var other = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync(new { title = "Read" });
        var gone = await user.Client.CreateHabitIdAsync(new { title = "Gone" });
        await user.Client.CreateEntryAsync(habit);
        var deleted = await user.Client.CreateEntryIdAsync(habit, "2026-03-09T07:00:00Z");
        (await user.Client.DeleteAsync($"/api/v1/entries/{deleted}")).EnsureSuccessStatusCode();
        (await user.Client.DeleteAsync($"/api/v1/habits/{gone}")).EnsureSuccessStatusCode();
        await other.Client.CreateHabitIdAsync(new { title = "Not yours" });

        var response = await user.Client.GetAsync("/api/v1/export");
        var document = await response.ShouldBeAsync(200);

        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(2, (int)document["format_version"]!);
        Assert.EndsWith("Z", (string?)document["exported_at"]);
        Assert.Equal(user.Id.ToString(), (string?)document["user"]!["id"]);
        Assert.Equal("Europe/Rome", (string?)document["user"]!["timezone"]);
        var exported = Assert.Single(document["habits"]!.AsArray());
        Assert.Equal(habit.ToString(), (string?)exported!["id"]);
        Assert.Equal(1, (int)exported["version"]!);
        var entry = Assert.Single(document["entries"]!.AsArray());
        Assert.Equal(habit.ToString(), (string?)entry!["habit_id"]);
        Assert.Equal("done", (string?)entry["kind"]);
        Assert.NotNull((string?)entry["local_date"]);
        Assert.Equal("at_least", (string?)exported["goal"]);
        Assert.Equal("Europe/Rome", (string?)document["settings"]!["timezone"]);
        Assert.Equal("00:00", (string?)document["settings"]!["day_start"]);
        Assert.Equal(1, (int)document["settings"]!["version"]!);
        Assert.Empty(document["time_off"]!.AsArray());
    }

    [Fact]
    public async Task The_csv_export_is_a_zip_of_habits_and_entries_a_spreadsheet_opens()
    {
        var user = await CreateUserAsync("Europe/Rome");
        var habit = await user.Client.CreateHabitIdAsync(new { title = "=HYPERLINK(\"x\")", description = "line one\nline two, with a comma" });
        await user.Client.CreateEntryAsync(habit, "2026-03-08T23:30:00Z");
        var skip = await (await user.Client.PostJsonAsync("/api/v1/entries", new { habit_id = habit, completion_date = "2026-03-10T08:00:00Z", kind = "skip" })).ShouldBeAsync(201);
        var timeOff = await (await user.Client.PostJsonAsync("/api/v1/time-off", new { start_date = "2026-04-01", end_date = "2026-04-05", habit_ids = new[] { habit }, note = "@home, resting" })).ShouldBeAsync(201);
        var allHabits = await (await user.Client.PostJsonAsync("/api/v1/time-off", new { start_date = "2026-05-01", end_date = "2026-05-01" })).ShouldBeAsync(201);
        await (await user.Client.PutAsJsonAsync("/api/v1/settings", new { day_start = "04:30", version = 1 })).ShouldBeAsync(200);

        var response = await user.Client.GetAsync("/api/v1/export?format=csv");
        var bad = await user.Client.GetAsync("/api/v1/export?format=xml");

        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        using var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal(["entries.csv", "habits.csv", "settings.csv", "time_off.csv"], zip.Entries.Select(e => e.FullName).Order());
        var habits = Read(zip, "habits.csv");
        var entries = Read(zip, "entries.csv");
        var timeOffCsv = Read(zip, "time_off.csv");
        Assert.StartsWith("id,title,description,color,icon,sort_order,type,target_value,unit,goal,", habits);
        Assert.Contains($"{habit},\"'=HYPERLINK(\"\"x\"\")\",\"line one\nline two, with a comma\",", habits);
        Assert.Contains(",at_least,daily,", habits);
        Assert.StartsWith("id,habit_id,habit_title,completion_date,local_date,kind,value,", entries);
        Assert.Contains(",2026-03-08T23:30:00.000000Z,2026-03-09,done,1,", entries); // the local day in Rome, as stored
        Assert.Contains($"{skip["id"]},{habit},", entries);
        Assert.Contains(",2026-03-10T08:00:00.000000Z,2026-03-10,skip,", entries);
        Assert.StartsWith("id,start_date,end_date,habit_ids,note,version,created_at,updated_at\r\n", timeOffCsv);
        Assert.Contains($"{timeOff["id"]},2026-04-01,2026-04-05,{habit},\"'@home, resting\",1,", timeOffCsv);
        Assert.Contains($"{allHabits["id"]},2026-05-01,2026-05-01,,,1,", timeOffCsv);
        Assert.Equal("timezone,day_start,version\r\nEurope/Rome,04:30,2\r\n", Read(zip, "settings.csv"));
        await bad.ShouldBeProblemAsync(400, "validation failed");
    }

    /// <summary>
    /// The real process's resident memory while it streams an account of 200,000 entries: the export
    /// must not hold the account in memory. The figure is written to the test output.
    /// </summary>
    [Fact]
    public async Task Exporting_200000_entries_streams_with_flat_memory()
    {
        const int Entries = 200_000;
        var userId = Guid.NewGuid();
        await using (var db = await OpenDatabaseAsync())
        {
            await db.ExecuteAsync(
                "INSERT INTO users (id, email, change_seq) VALUES (@userId, @email, 1)",
                new { userId, email = $"big-{userId:N}@example.com" });
            await db.ExecuteAsync("""
                INSERT INTO habits (user_id, id, title, start_date, created_at, updated_at, change_seq)
                SELECT @userId, gen_random_uuid(), 'Habit ' || h, now() - interval '2 years', now(), now(), 1 FROM generate_series(1, 10) h;
                INSERT INTO habit_entries (user_id, id, habit_id, completion_date, local_date, value, notes, created_at, updated_at, change_seq)
                SELECT @userId, gen_random_uuid(), h.id, now() - (n || ' minutes')::interval, ((now() - (n || ' minutes')::interval) AT TIME ZONE 'UTC')::date,
                    1, 'a short note', now(), now(), 1
                FROM (SELECT id, row_number() OVER () AS k FROM habits WHERE user_id = @userId) h, generate_series(1, @perHabit) n;
                """, new { userId, perHabit = Entries / 10 });
        }

        var small = await CreateUserAsync();
        var habit = await small.Client.CreateHabitIdAsync(new { title = "Small" });
        await small.Client.CreateEntryAsync(habit);

        await using var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration);
        using var client = api.CreateClient(Factory.Tokens.Issue(userId, $"big-{userId:N}@example.com").Token);
        client.Timeout = TimeSpan.FromMinutes(5);

        // Warm up the code path (JIT, pools) with a small account's export, then measure the big one.
        using (var warmUp = api.CreateClient(Factory.Tokens.Issue(small.Id, small.Email).Token))
        {
            Assert.Equal(1, (await DrainExportAsync(warmUp, () => { })).Entries);
        }

        var baseline = Rss(api.Pid);
        var peak = baseline;
        var (bytes, entries) = await DrainExportAsync(client, () => peak = Math.Max(peak, Rss(api.Pid)));
        peak = Math.Max(peak, Rss(api.Pid));

        var growthMb = (peak - baseline) / 1024.0 / 1024.0;
        output.WriteLine($"export of {entries} entries: {bytes / 1024.0 / 1024.0:F1} MB of JSON; API RSS {baseline / 1024.0 / 1024.0:F1} MB before, peak {peak / 1024.0 / 1024.0:F1} MB, growth {growthMb:F1} MB");
        Assert.Equal(Entries, entries);
        Assert.True(growthMb < 50, $"RSS grew {growthMb:F1} MB while streaming the export");

        // The same document imported into a fresh account through the real server (Kestrel's body
        // limit is raised for /import only): every entry arrives.
        var document = await client.GetByteArrayAsync("/api/v1/export");
        var fresh = await CreateUserAsync();
        using var target = api.CreateClient(Factory.Tokens.Issue(fresh.Id, fresh.Email).Token);
        target.Timeout = TimeSpan.FromMinutes(5);
        var started = Stopwatch.StartNew();
        var imported = await (await target.PostAsync("/api/v1/import", new ByteArrayContent(document) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } })).ShouldBeAsync(200);
        output.WriteLine($"import of the {document.Length / 1024.0 / 1024.0:F1} MB document: {started.Elapsed.TotalSeconds:F1} s, API RSS now {Rss(api.Pid) / 1024.0 / 1024.0:F1} MB");
        Assert.Equal(Entries, (int)imported["entries"]!["created"]!);
        Assert.Equal(10, (int)imported["habits"]!["created"]!);
    }

    /// <summary>Reads the export as it streams, counting entries, sampling the API's memory along the way.</summary>
    private static async Task<(long Bytes, int Entries)> DrainExportAsync(HttpClient client, Action sample)
    {
        using var response = await client.GetAsync("/api/v1/export", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        var count = 0;
        long total = 0;
        var marker = "\"completion_date\""u8.ToArray();
        var lastSample = Stopwatch.StartNew();
        int read;
        var carry = Array.Empty<byte>();
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
            var span = carry.Concat(buffer.Take(read)).ToArray();
            var offset = 0;
            int index;
            while ((index = span.AsSpan(offset).IndexOf(marker)) >= 0)
            {
                count++;
                offset += index + marker.Length;
            }

            carry = span[Math.Max(offset, span.Length - marker.Length)..];
            if (lastSample.ElapsedMilliseconds >= 20)
            {
                sample();
                lastSample.Restart();
            }
        }

        return (total, count);
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
        }

        throw new InvalidOperationException("No VmRSS");
    }

    private static string Read(ZipArchive zip, string name)
    {
        using var reader = new StreamReader(zip.GetEntry(name)!.Open(), Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
