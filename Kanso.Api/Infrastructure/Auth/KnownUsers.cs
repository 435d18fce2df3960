using Dapper;
using Microsoft.Extensions.Caching.Memory;
using Npgsql;

namespace Kanso.Api.Infrastructure.Auth;

internal sealed record KnownUser(Guid Id, string Timezone);

/// <summary>
/// "Does this token's user still exist, and what is their zone?" answered from a short cache so an
/// authenticated request costs no query. Deleting an account evicts it here at once and, through
/// <see cref="UserRevocations"/>, on the other instances; without Redis they drop their copy within
/// <see cref="Ttl"/>.
/// </summary>
internal sealed class KnownUsers(NpgsqlDataSource db, IMemoryCache cache, UserRevocations revocations)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    private const string FindSql = "SELECT id, timezone FROM users WHERE id = @id";
    // Streaks count days in the user's zone, so a new zone marks the user's habits for the streak
    // worker's sweep (users row first, then habits: the order every writer locks them in).
    // user_id = @id pins the habits' update to the user's shard on Citus (else it touches every shard).
    private const string RememberZoneSql = """
        WITH changed AS (
            UPDATE users SET timezone = @timezone WHERE id = @id AND timezone <> @timezone RETURNING id
        )
        UPDATE habits SET streak_dirty = true
        WHERE user_id = @id AND user_id IN (SELECT id FROM changed) AND deleted_at IS NULL AND NOT streak_dirty
        """;

    /// <summary>Tests only: runs between the database read and the cache fill, to interleave a deletion there.</summary>
    internal Func<Guid, Task>? AfterReadHook { get; set; }

    public async ValueTask<KnownUser?> FindAsync(Guid id, CancellationToken ct)
    {
        if (cache.TryGetValue(Key(id), out KnownUser? known))
        {
            return known;
        }

        // A deletion that commits after this read evicts before the fill below: the eviction count,
        // read before the query and checked after the fill, tells, and the fill is undone.
        var evictions = revocations.Evictions;
        await using var connection = await db.OpenConnectionAsync(ct);
        known = await connection.QuerySingleOrDefaultAsync<KnownUser>(new CommandDefinition(FindSql, new { id }, cancellationToken: ct));
        if (AfterReadHook is { } hook)
        {
            await hook(id);
        }

        if (known is not null)
        {
            cache.Set(Key(id), known, Ttl);
            if (revocations.Evictions != evictions)
            {
                cache.Remove(Key(id));
            }
        }

        return known;
    }

    /// <summary>Stores the zone a client named, with one write only when it differs from the stored one.</summary>
    public async ValueTask RememberZoneAsync(KnownUser user, string timezone, CancellationToken ct)
    {
        if (user.Timezone == timezone)
        {
            return;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(RememberZoneSql, new { id = user.Id, timezone }, cancellationToken: ct));
        cache.Set(Key(user.Id), user with { Timezone = timezone }, Ttl);
    }

    /// <summary>Evicts a deleted account here at once, and on every other instance through Redis.</summary>
    public void Forget(Guid id)
    {
        revocations.Evict(id);
        revocations.Publish(id);
    }

    internal static string Key(Guid id) => $"user:{id:N}";
}
