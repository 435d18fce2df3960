using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Kanso.Api.Tests.Features.Auth;

/// <summary>Tokens an attacker or a sloppy issuer could present, and the deleted-account race.</summary>
public sealed class JwtHardeningTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task An_hs256_token_signed_with_the_rs256_public_key_is_refused()
    {
        using var rsa = RSA.Create(2048);
        var publicPem = rsa.ExportSubjectPublicKeyInfoPem();
        await using var host = Fixture.CreateFactory(new Dictionary<string, string?>
        {
            ["Jwt:Algorithm"] = "RS256",
            ["Jwt:SigningKey"] = null,
            ["Jwt:PrivateKeyPem"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["Jwt:PublicKeyPem"] = publicPem,
        });
        var user = await CreateUserAsync();
        var genuine = host.Tokens.Issue(user.Id, user.Email).Token;
        var forged = Mint(user.Id, new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(publicPem)), SecurityAlgorithms.HmacSha256));

        await (await SendAsync(host, genuine)).ShouldBeAsync(200);
        await (await SendAsync(host, forged)).ShouldBeProblemAsync(401, "invalid token");
    }

    [Fact]
    public async Task An_rs256_token_presented_to_an_hs256_server_is_refused()
    {
        using var rsa = RSA.Create(2048);
        var user = await CreateUserAsync();
        var token = Mint(user.Id, new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256));

        await (await SendAsync(Factory, token)).ShouldBeProblemAsync(401, "invalid token");
    }

    [Fact]
    public async Task A_token_without_exp_is_refused()
    {
        var user = await CreateUserAsync();

        var token = Mint(user.Id, Hs256(), withoutExpiry: true);

        Assert.False(new JsonWebToken(token).TryGetPayloadValue<long>("exp", out _));
        await (await SendAsync(Factory, token)).ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task A_token_not_valid_before_a_minute_from_now_is_refused()
    {
        var user = await CreateUserAsync();

        var token = Mint(user.Id, Hs256(), notBefore: DateTime.UtcNow.AddMinutes(1));

        await (await SendAsync(Factory, token)).ShouldBeProblemAsync(401);
    }

    [Fact]
    public async Task The_clock_skew_allowance_is_seconds_not_minutes()
    {
        var user = await CreateUserAsync();

        // nbf a little ahead (clock drift between instances) is accepted; time passing only makes it more valid.
        var inside = Mint(user.Id, Hs256(), notBefore: DateTime.UtcNow + AuthSetup.ClockSkew - TimeSpan.FromSeconds(2));
        // Expired 30 s ago: well inside the library's default 5 minutes, outside Kanso's 5 seconds.
        var expired = Mint(user.Id, Hs256(), expires: DateTime.UtcNow.AddSeconds(-30), notBefore: DateTime.UtcNow.AddMinutes(-10));

        await (await SendAsync(Factory, inside)).ShouldBeAsync(200);
        await (await SendAsync(Factory, expired)).ShouldBeProblemAsync(401, "token expired");
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("")]
    [InlineData("00000000-0000-0000-0000-00000000000g")]
    public async Task A_token_whose_subject_is_not_a_uuid_is_refused(string subject)
    {
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["sub"] = subject },
            Issuer = "kanso",
            Audience = "kanso-app",
            NotBefore = DateTime.UtcNow.AddMinutes(-1),
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = Hs256(),
        });

        await (await SendAsync(Factory, token)).ShouldBeProblemAsync(401, "invalid token");
    }

    [Fact]
    public async Task Jwt_lifetime_is_honoured_by_login()
    {
        await using var host = Fixture.CreateFactory(new Dictionary<string, string?> { ["Jwt:Lifetime"] = "00:02:00" });
        var client = host.CreateClient();
        var email = $"life-{Guid.NewGuid():N}@example.com";
        await (await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "password-123" })).ShouldBeAsync(201);

        var login = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "password-123" })).ShouldBeAsync(200);

        var token = new JsonWebToken((string)login["token"]!);
        Assert.Equal(TimeSpan.FromMinutes(2), token.ValidTo - token.IssuedAt);
        Assert.Equal(token.ValidTo, DateTimeOffset.Parse((string)login["expires_at"]!, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime);
    }

    [Fact]
    public async Task A_lookup_that_read_the_user_before_the_deletion_does_not_keep_the_token_alive()
    {
        // No Redis: the host's own echo of the eviction (through the channel) must not be what saves it.
        await using var host = new KansoApiFactory(Fixture.ConnectionString, redis: null);
        var user = await CreateUserAsync();
        var client = ClientFor(host, user.Id, user.Email);
        var known = host.Services.GetRequiredService<KnownUsers>();
        var deletedInBetween = false;
        known.AfterReadHook = async id =>
        {
            // The lookup has read the user; the deletion commits and evicts before the lookup fills the cache.
            if (id != user.Id || deletedInBetween)
            {
                return;
            }

            deletedInBetween = true;
            await using var db = await OpenDatabaseAsync();
            await db.ExecuteAsync("DELETE FROM users WHERE id = @id", new { id });
            known.Forget(id);
        };

        try
        {
            // This request began before the deletion committed: either answer is right for it.
            await client.GetAsync("/api/v1/auth/validate");
        }
        finally
        {
            known.AfterReadHook = null;
        }

        Assert.True(deletedInBetween);
        await (await client.GetAsync("/api/v1/auth/validate")).ShouldBeProblemAsync(401, "invalid token");
    }

    private static SigningCredentials Hs256() =>
        new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(KansoApiFactory.SigningKey)), SecurityAlgorithms.HmacSha256);

    /// <summary>A token for the user, valid for an hour unless told otherwise; <paramref name="withoutExpiry"/> leaves exp out.</summary>
    private static string Mint(Guid userId, SigningCredentials credentials, DateTime? expires = null, DateTime? notBefore = null, bool withoutExpiry = false) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", userId.ToString())]),
            Issuer = "kanso",
            Audience = "kanso-app",
            IssuedAt = DateTime.UtcNow,
            NotBefore = notBefore ?? DateTime.UtcNow.AddMinutes(-1),
            Expires = withoutExpiry ? null : expires ?? DateTime.UtcNow.AddHours(1),
            SigningCredentials = credentials,
        });

    private static async Task<HttpResponseMessage> SendAsync(KansoApiFactory host, string token)
    {
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.GetAsync("/api/v1/auth/validate");
    }
}
