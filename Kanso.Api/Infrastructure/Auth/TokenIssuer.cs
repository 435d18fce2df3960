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

    public (string Token, Instant ExpiresAt) Issue(Guid userId, string email)
    {
        var credentials = keys.SigningCredentials
            ?? throw new InvalidOperationException("Jwt__PrivateKeyPem is required to issue RS256 tokens.");
        // The same clock JwtBearer validates with (not the injectable IClock that days are counted by).
        var now = Instant.FromDateTimeOffset(time.GetUtcNow());
        var expires = now + Duration.FromTimeSpan(options.Value.Lifetime);
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, userId.ToString()), new Claim(JwtRegisteredClaimNames.Email, email)]),
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
