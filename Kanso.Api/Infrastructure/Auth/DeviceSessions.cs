using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Infrastructure.Auth;

/// <summary>An access token and a refresh token of one session, as login and refresh answer them.</summary>
internal sealed record SessionTokens(Guid SessionId, string Token, Instant ExpiresAt, string RefreshToken, Instant RefreshExpiresAt);

/// <summary>What a refresh did.</summary>
internal enum RefreshOutcome
{
    Refreshed,
    Invalid,
    Expired,
    Reused,
}

/// <summary>A row of the session list.</summary>
internal sealed record SessionInfo(Guid Id, string? DeviceName, Instant CreatedAt, Instant LastUsedAt, Instant? LastSyncAt);

/// <summary>
/// Device sessions: one per login, each with a rotating refresh token (only its hash is stored).
/// A revoked session's access tokens are refused at once: <see cref="IsLiveAsync"/> answers from a
/// short cache that revocation evicts here and, through <see cref="SessionRevocations"/>, on every
/// other instance. Every statement is pinned to one user's rows.
/// </summary>
internal sealed class DeviceSessions(
    NpgsqlDataSource db,
    IMemoryCache cache,
    SessionRevocations revocations,
    TokenIssuer issuer,
    RefreshTokens refreshTokens,
    IOptions<RefreshTokenOptions> options)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    /// <summary>last_used_at and last_sync_at move at most this often per session (and instance).</summary>
    public static readonly Duration TouchInterval = Duration.FromMinutes(1);

    /// <summary>How long a revocation is remembered here, past any cached "live" answer.</summary>
    private static readonly TimeSpan RevokedTtl = TimeSpan.FromMinutes(2);

    public async Task<SessionTokens> OpenAsync(Guid userId, string email, string? deviceName, CancellationToken ct)
    {
        var now = issuer.Now;
        var sessionId = Guid.CreateVersion7();
        var refresh = refreshTokens.First(sessionId, userId);
        var refreshExpiresAt = now + Duration.FromTimeSpan(options.Value.RefreshLifetime);
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(SessionSql.Open, new
        {
            userId,
            sessionId,
            deviceName,
            hash = refresh.Hash,
            refreshExpiresAt,
            now,
        }, cancellationToken: ct));
        var (token, expiresAt) = issuer.Issue(userId, email, sessionId, now);
        return new SessionTokens(sessionId, token, expiresAt, refresh.Text, refreshExpiresAt);
    }

    /// <summary>Spends a refresh token for a new pair; see docs/API.md for the grace and reuse rules.</summary>
    public async Task<(RefreshOutcome Outcome, SessionTokens? Tokens)> RefreshAsync(string refreshText, CancellationToken ct)
    {
        if (refreshTokens.Parse(refreshText) is not { } presented)
        {
            return (RefreshOutcome.Invalid, null);
        }

        var now = issuer.Now;
        var userId = presented.UserId;
        var sessionId = presented.SessionId;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SessionRow>(new CommandDefinition(
            SessionSql.Lock, new { userId, sessionId }, transaction, cancellationToken: ct));
        if (row is null)
        {
            return (RefreshOutcome.Invalid, null);
        }

        var hash = presented.Hash;
        if (presented.Generation == row.Generation && CryptographicOperations.FixedTimeEquals(hash, row.RefreshHash))
        {
            if (now >= row.RefreshExpiresAt)
            {
                await connection.ExecuteAsync(new CommandDefinition(SessionSql.Delete, new { userId, sessionId }, transaction, cancellationToken: ct));
                await transaction.CommitAsync(ct);
                Evict(userId, sessionId);
                return (RefreshOutcome.Expired, null);
            }

            var tokens = Successor(presented, row.Email, now);
            await connection.ExecuteAsync(new CommandDefinition(SessionSql.Rotate, new
            {
                userId,
                sessionId,
                hash = refreshTokens.Parse(tokens.RefreshToken)!.Hash,
                generation = presented.Generation + 1,
                previousHash = hash,
                refreshExpiresAt = tokens.RefreshExpiresAt,
                now,
            }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            return (RefreshOutcome.Refreshed, tokens);
        }

        // The token spent by the last rotation, retried within the grace: the same pair, derived again.
        if (presented.Generation == row.Generation - 1
            && row.PreviousHash is not null && CryptographicOperations.FixedTimeEquals(hash, row.PreviousHash)
            && now <= row.RotatedAt + Duration.FromTimeSpan(options.Value.RefreshGrace))
        {
            await transaction.RollbackAsync(ct);
            return (RefreshOutcome.Refreshed, Successor(presented, row.Email, row.RotatedAt));
        }

        // A genuine token of this session (the tag says this server made it) that is no longer
        // current: a copy was used. The session ends, everywhere.
        if (presented.Generation < row.Generation)
        {
            await connection.ExecuteAsync(new CommandDefinition(SessionSql.Delete, new { userId, sessionId }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            Evict(userId, sessionId);
            return (RefreshOutcome.Reused, null);
        }

        return (RefreshOutcome.Invalid, null);
    }

    /// <summary>Whether an access token's session is still open; cached, and touches last_used_at now and then.</summary>
    public async ValueTask<bool> IsLiveAsync(Guid userId, Guid sessionId, CancellationToken ct)
    {
        if (cache.TryGetValue(RevokedKey(sessionId), out _))
        {
            return false;
        }

        if (cache.TryGetValue(Key(sessionId), out bool live))
        {
            return live;
        }

        var now = issuer.Now;
        await using var connection = await db.OpenConnectionAsync(ct);
        live = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            SessionSql.CheckAndTouch, new { userId, sessionId, now, stale = now - TouchInterval }, cancellationToken: ct));

        // A revocation that arrived while the row was read wins over what was read.
        if (cache.TryGetValue(RevokedKey(sessionId), out _))
        {
            return false;
        }

        cache.Set(Key(sessionId), live, Ttl);
        return live;
    }

    /// <summary>Stamps last_sync_at (a pull or a push), at most once a minute per session on this instance.</summary>
    public async Task TouchSyncAsync(Guid userId, Guid? sessionId, CancellationToken ct)
    {
        if (sessionId is not { } sid || cache.TryGetValue(SyncKey(sid), out _))
        {
            return;
        }

        cache.Set(SyncKey(sid), true, TouchInterval.ToTimeSpan());
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(SessionSql.TouchSync, new { userId, sessionId = sid, now = issuer.Now }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<SessionInfo>> ListAsync(Guid userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<SessionInfo>(new CommandDefinition(SessionSql.List, new { userId, now = issuer.Now }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <returns>False when the account has no such session.</returns>
    public async Task<bool> RevokeAsync(Guid userId, Guid sessionId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(SessionSql.Delete, new { userId, sessionId }, cancellationToken: ct));
        if (deleted == 0)
        {
            // Not this account's session (or gone already): nothing to evict, least of all another account's.
            return false;
        }

        Evict(userId, sessionId);
        return true;
    }

    /// <summary>Revokes every session of the account but <paramref name="keep"/>, inside the caller's transaction.</summary>
    public async Task<IReadOnlyList<Guid>> RevokeOthersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid? keep, CancellationToken ct)
    {
        var ids = await connection.QueryAsync<Guid>(new CommandDefinition(SessionSql.DeleteOthers, new { userId, keep }, transaction, cancellationToken: ct));
        return ids.AsList();
    }

    /// <summary>Forgets a revoked session here at once and on every other instance.</summary>
    public void Evict(Guid userId, Guid sessionId)
    {
        Forget(cache, sessionId);
        revocations.Publish(userId, sessionId);
    }

    internal static void Forget(IMemoryCache cache, Guid sessionId)
    {
        cache.Set(RevokedKey(sessionId), true, RevokedTtl);
        cache.Remove(Key(sessionId));
    }

    private SessionTokens Successor(RefreshToken spent, string email, Instant rotatedAt)
    {
        var next = refreshTokens.Next(spent);
        var (token, expiresAt) = issuer.Issue(spent.UserId, email, spent.SessionId, rotatedAt);
        return new SessionTokens(spent.SessionId, token, expiresAt, next.Text, rotatedAt + Duration.FromTimeSpan(options.Value.RefreshLifetime));
    }

    private static string Key(Guid sessionId) => $"session:{sessionId:N}";

    private static string RevokedKey(Guid sessionId) => $"session-revoked:{sessionId:N}";

    private static string SyncKey(Guid sessionId) => $"session-sync:{sessionId:N}";

    private sealed record SessionRow(byte[] RefreshHash, int Generation, Instant RefreshExpiresAt, Instant RotatedAt, byte[]? PreviousHash, string Email);
}

internal static class SessionSql
{
    // A login also clears the account's sessions whose refresh token has expired.
    public const string Open = """
        WITH expired AS (
            DELETE FROM sessions WHERE user_id = @userId AND refresh_expires_at < @now
        )
        INSERT INTO sessions (user_id, id, device_name, refresh_hash, generation, refresh_expires_at, rotated_at, created_at, last_used_at)
        VALUES (@userId, @sessionId, @deviceName, @hash, 0, @refreshExpiresAt, @now, @now, @now)
        """;

    public const string Lock = """
        SELECT s.refresh_hash, s.generation, s.refresh_expires_at, s.rotated_at, s.previous_hash, u.email
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.user_id = @userId AND s.id = @sessionId
        FOR UPDATE OF s
        """;

    public const string Rotate = """
        UPDATE sessions SET refresh_hash = @hash, generation = @generation, previous_hash = @previousHash,
            refresh_expires_at = @refreshExpiresAt, rotated_at = @now, last_used_at = @now
        WHERE user_id = @userId AND id = @sessionId
        """;

    public const string Delete = "DELETE FROM sessions WHERE user_id = @userId AND id = @sessionId";

    public const string DeleteOthers = "DELETE FROM sessions WHERE user_id = @userId AND id IS DISTINCT FROM @keep::uuid RETURNING id";

    public const string CheckAndTouch = """
        WITH touched AS (
            UPDATE sessions SET last_used_at = @now
            WHERE user_id = @userId AND id = @sessionId AND last_used_at < @stale
        )
        SELECT EXISTS (SELECT 1 FROM sessions WHERE user_id = @userId AND id = @sessionId)
        """;

    public const string TouchSync = "UPDATE sessions SET last_sync_at = @now WHERE user_id = @userId AND id = @sessionId";

    public const string List = """
        SELECT id, device_name, created_at, last_used_at, last_sync_at
        FROM sessions
        WHERE user_id = @userId AND refresh_expires_at >= @now
        ORDER BY created_at DESC, id
        """;
}
