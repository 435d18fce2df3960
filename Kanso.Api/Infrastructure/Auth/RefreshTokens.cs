using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Infrastructure.Auth;

/// <summary>A parsed refresh token: the session it belongs to, its generation and its bytes.</summary>
internal sealed record RefreshToken(Guid SessionId, Guid UserId, int Generation, byte[] Bytes)
{
    /// <summary>What the database stores: the SHA-256 of the token, never the token.</summary>
    public byte[] Hash => SHA256.HashData(Bytes);

    public string Text => Convert.ToBase64String(Bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// Opaque refresh tokens: base64url of version (1 byte), session id, user id (16 bytes each),
/// generation (4), secret (32) and a 16-byte HMAC tag over the rest under a server key derived from
/// the JWT signing key. The ids pin every lookup to one user's session row; the tag means only this
/// server makes tokens, so a token of an older generation is a copy of a real spent token (reuse),
/// not a guess. The first secret is random (256 bits); each successor's secret is an HMAC of the
/// spent token, so a retry within the grace derives the same successor without the server storing
/// any token.
/// </summary>
internal sealed class RefreshTokens
{
    private const byte Version = 1;
    private const int SecretLength = 32;
    private const int TagLength = 16;
    private const int BodyLength = 1 + 16 + 16 + 4 + SecretLength;
    private const int TokenLength = BodyLength + TagLength;

    private readonly byte[]? _key;

    public RefreshTokens(IOptions<JwtOptions> options)
    {
        var o = options.Value;
        var material = o.Algorithm == "RS256" ? o.PrivateKeyPem : o.SigningKey;
        _key = string.IsNullOrEmpty(material)
            ? null
            : HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(material), 32, salt: null, info: "kanso refresh tokens v1"u8.ToArray());
    }

    public RefreshToken First(Guid sessionId, Guid userId) =>
        Create(sessionId, userId, 0, RandomNumberGenerator.GetBytes(SecretLength));

    /// <summary>The token that replaces <paramref name="spent"/>: the same for the same spent token.</summary>
    public RefreshToken Next(RefreshToken spent) =>
        Create(spent.SessionId, spent.UserId, spent.Generation + 1, Mac("next"u8, spent.Bytes)[..SecretLength]);

    /// <summary>A token this server made, or null (malformed, wrong length, wrong tag).</summary>
    public RefreshToken? Parse(string? text)
    {
        if (_key is null || text is null || text.Length is < 100 or > 200 || !TryDecode(text, out var bytes) || bytes.Length != TokenLength || bytes[0] != Version)
        {
            return null;
        }

        var tag = Mac("tag"u8, bytes.AsSpan(0, BodyLength))[..TagLength];
        if (!CryptographicOperations.FixedTimeEquals(tag, bytes.AsSpan(BodyLength)))
        {
            return null;
        }

        var generation = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(33, 4));
        return generation < 0 ? null : new RefreshToken(new Guid(bytes.AsSpan(1, 16)), new Guid(bytes.AsSpan(17, 16)), generation, bytes);
    }

    /// <summary>The session id a token names, without checking it (rate-limit partitions only).</summary>
    public static Guid? PeekSessionId(string? text) =>
        text is { Length: >= 100 and <= 200 } && TryDecode(text, out var bytes) && bytes.Length == TokenLength ? new Guid(bytes.AsSpan(1, 16)) : null;

    private RefreshToken Create(Guid sessionId, Guid userId, int generation, byte[] secret)
    {
        var bytes = new byte[TokenLength];
        bytes[0] = Version;
        sessionId.TryWriteBytes(bytes.AsSpan(1, 16));
        userId.TryWriteBytes(bytes.AsSpan(17, 16));
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(33, 4), generation);
        secret.CopyTo(bytes.AsSpan(37));
        Mac("tag"u8, bytes.AsSpan(0, BodyLength))[..TagLength].CopyTo(bytes.AsSpan(BodyLength));
        return new RefreshToken(sessionId, userId, generation, bytes);
    }

    private byte[] Mac(ReadOnlySpan<byte> purpose, ReadOnlySpan<byte> data)
    {
        var key = _key ?? throw new InvalidOperationException("No signing key to make refresh tokens with.");
        var input = new byte[purpose.Length + 1 + data.Length];
        purpose.CopyTo(input);
        data.CopyTo(input.AsSpan(purpose.Length + 1));
        return HMACSHA256.HashData(key, input);
    }

    private static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => "!" };
        if (padded.EndsWith('!'))
        {
            return false;
        }

        try
        {
            bytes = Convert.FromBase64String(padded);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
