using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using NodaTime;

namespace Kanso.Api.Infrastructure.Auth;

internal sealed class TokenIssuer(JwtKeys keys, IOptions<JwtOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>False on an RS256 verifier configured with the public key only.</summary>
    public bool CanIssue => keys.SigningCredentials is not null;

    /// <summary>The claim naming the device session an access token belongs to.</summary>
    public const string SessionClaim = JwtRegisteredClaimNames.Sid;

    /// <summary>The same clock JwtBearer validates with (not the injectable IClock that days are counted by).</summary>
    public Instant Now => Instant.FromDateTimeOffset(time.GetUtcNow());

    public (string Token, Instant ExpiresAt) Issue(Guid userId, string email) => Issue(userId, email, null, Now);

    /// <summary>
    /// An access token of a device session. The same arguments give the same token (no random
    /// claims), so a refresh retried within the grace can answer the pair it answered before.
    /// </summary>
    public (string Token, Instant ExpiresAt) Issue(Guid userId, string email, Guid? sessionId, Instant issuedAt)
    {
        var credentials = keys.SigningCredentials
            ?? throw new InvalidOperationException("Jwt__PrivateKeyPem is required to issue RS256 tokens.");
        var now = Instant.FromUnixTimeSeconds(issuedAt.ToUnixTimeSeconds());
        var expires = now + Duration.FromTimeSpan(options.Value.Lifetime);
        Claim[] claims = sessionId is { } sid
            ? [new Claim(JwtRegisteredClaimNames.Sub, userId.ToString()), new Claim(JwtRegisteredClaimNames.Email, email), new Claim(SessionClaim, sid.ToString())]
            : [new Claim(JwtRegisteredClaimNames.Sub, userId.ToString()), new Claim(JwtRegisteredClaimNames.Email, email)];
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            IssuedAt = now.ToDateTimeUtc(),
            NotBefore = now.ToDateTimeUtc(),
            Expires = expires.ToDateTimeUtc(),
            SigningCredentials = credentials,
        });
        return (token, Instant.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }
}
