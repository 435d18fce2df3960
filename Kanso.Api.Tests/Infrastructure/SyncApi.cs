using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>A record as sync tests compare it: its version and whether (and when) it was deleted.</summary>
public sealed record RecordState(int Version, DateTime? DeletedAt);

/// <summary>A client's local copy built from pulls: the latest state of every record seen, tombstones kept.</summary>
public sealed class LocalCopy
{
    public Dictionary<Guid, RecordState> Habits { get; } = [];

    public Dictionary<Guid, RecordState> Entries { get; } = [];

    public string? Cursor { get; set; }

    public void Apply(JsonNode page)
    {
        foreach (var habit in page["habits"]!.AsArray())
        {
            Habits[Guid.Parse((string)habit!["id"]!)] = State(habit);
        }

        foreach (var entry in page["entries"]!.AsArray())
        {
            Entries[Guid.Parse((string)entry!["id"]!)] = State(entry);
        }
    }

    public static RecordState State(JsonNode record) =>
        new((int)record["version"]!, record["deleted_at"] is { } deleted ? DateTime.Parse((string)deleted!, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal) : null);
}

/// <summary>Drives the sync routes the way a client does.</summary>
public static class SyncApi
{
    public static async Task<JsonNode> PullAsync(this HttpClient client, string? cursor, int? limit = null)
    {
        var query = new List<string>();
        if (cursor is not null)
        {
            query.Add($"cursor={Uri.EscapeDataString(cursor)}");
        }

        if (limit is not null)
        {
            query.Add($"limit={limit}");
        }

        var response = await client.GetAsync("/api/v1/sync/pull" + (query.Count > 0 ? "?" + string.Join('&', query) : ""));
        return await response.ShouldBeAsync(200);
    }

    /// <summary>Pulls from <paramref name="copy"/>'s cursor until <c>has_more</c> is false; returns the pages.</summary>
    public static async Task<List<JsonNode>> PullAllAsync(this HttpClient client, LocalCopy copy, int? limit = null)
    {
        var pages = new List<JsonNode>();
        while (true)
        {
            var page = await client.PullAsync(copy.Cursor, limit);
            pages.Add(page);
            copy.Apply(page);
            copy.Cursor = (string)page["cursor"]!;
            if (!(bool)page["has_more"]!)
            {
                return pages;
            }
        }
    }

    public static async Task<JsonNode> PushAsync(this HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/v1/sync/push", body);
        return await response.ShouldBeAsync(200);
    }

    /// <summary>Every habit and entry of the user as stored, tombstones included.</summary>
    public static async Task<(Dictionary<Guid, RecordState> Habits, Dictionary<Guid, RecordState> Entries)> StoredAsync(NpgsqlConnection db, Guid userId)
    {
        var habits = await db.QueryAsync<(Guid Id, int Version, DateTime? DeletedAt)>(
            "SELECT id, version, deleted_at FROM habits WHERE user_id = @userId", new { userId });
        var entries = await db.QueryAsync<(Guid Id, int Version, DateTime? DeletedAt)>(
            "SELECT id, version, deleted_at FROM habit_entries WHERE user_id = @userId", new { userId });
        return (habits.ToDictionary(h => h.Id, h => new RecordState(h.Version, h.DeletedAt)),
            entries.ToDictionary(e => e.Id, e => new RecordState(e.Version, e.DeletedAt)));
    }

    /// <summary>
    /// Every row the user has, as text, with users.change_seq: equal snapshots mean nothing changed.
    /// It first lets the streak worker finish the user's pending recomputes (which may store streaks
    /// under a change number of their own) and leaves out the worker's bookkeeping columns.
    /// </summary>
    public static async Task<string> SnapshotAsync(NpgsqlConnection db, Guid userId)
    {
        await TestRows.EventuallyAsync(
            async () => await db.ExecuteScalarAsync<long>("SELECT count(*) FROM habits WHERE user_id = @userId AND streak_dirty", new { userId }) == 0,
            "the streak worker is idle for the user");
        var rows = await db.QueryAsync<string>("""
            SELECT 'u ' || change_seq || ' ' || purged_seq FROM users WHERE id = @userId
            UNION ALL SELECT 'h ' || (to_jsonb(h) - 'streak_dirty' - 'streak_due_at')::text FROM habits h WHERE user_id = @userId
            UNION ALL SELECT 'e ' || e::text FROM habit_entries e WHERE user_id = @userId
            ORDER BY 1
            """, new { userId });
        return string.Join('\n', rows);
    }
}
