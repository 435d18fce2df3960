using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Kanso.Api.Tests.Features.Auth;

public sealed class AuthTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Register_login_validate_with_hs256()
    {
        await RegisterLoginValidateAsync(Factory);
    }

    [Fact]
    public async Task Register_login_validate_with_rs256()
    {
        using var rsa = RSA.Create(2048);
        await using var factory = Fixture.CreateFactory(new Dictionary<string, string?>
        {
            ["Jwt:Algorithm"] = "RS256",
            ["Jwt:SigningKey"] = null,
            ["Jwt:PrivateKeyPem"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["Jwt:PublicKeyPem"] = rsa.ExportSubjectPublicKeyInfoPem(),
        });

        var token = await RegisterLoginValidateAsync(factory);

        Assert.Equal("RS256", new JsonWebToken(token).Alg);
    }

    [Fact]
    public async Task Rs256_verifier_with_only_the_public_key_accepts_tokens_and_refuses_login_with_503()
    {
        using var rsa = RSA.Create(2048);
        var keys = new Dictionary<string, string?>
        {
            ["Jwt:Algorithm"] = "RS256",
            ["Jwt:SigningKey"] = null,
            ["Jwt:PrivateKeyPem"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["Jwt:PublicKeyPem"] = rsa.ExportSubjectPublicKeyInfoPem(),
        };
        await using var issuer = Fixture.CreateFactory(keys);
        await using var verifier = Fixture.CreateFactory(new Dictionary<string, string?>(keys) { ["Jwt:PrivateKeyPem"] = null });
        var token = await RegisterLoginValidateAsync(issuer);
        var client = verifier.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var validated = await client.GetAsync("/api/v1/auth/validate");
        var login = await verifier.CreateClient().PostAsJsonAsync("/api/v1/auth/login", new { email = "anyone@example.com", password = "correct horse" });

        await validated.ShouldBeAsync(200);
        await login.ShouldBeProblemAsync(503, "login unavailable");
    }

    [Fact]
    public async Task Conflict_when_email_is_taken_in_another_case()
    {
        var client = Anonymous();
        await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "Taken@Example.com", password = "password-123" });

        var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "  taken@example.COM ", password = "password-456" });

        await response.ShouldBeProblemAsync(409, "email already registered");
    }

    [Theory]
    [InlineData("not-an-email", "password-123", "email")]
    [InlineData("a@example.com", "short", "password")]
    [InlineData("", "password-123", "email")]
    public async Task Bad_request_when_registration_is_invalid(string email, string password, string field)
    {
        var response = await Anonymous().PostAsJsonAsync("/api/v1/auth/register", new { email, password });

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(body["errors"]![field]);
    }

    [Fact]
    public async Task Bad_request_when_the_password_is_missing()
    {
        var response = await Anonymous().PostAsJsonAsync("/api/v1/auth/register", new { email = "someone@example.com" });

        var body = await response.ShouldBeProblemAsync(400, "validation failed");
        Assert.NotNull(body["errors"]!["password"]);
    }

    [Fact]
    public async Task Same_answer_for_unknown_email_and_wrong_password()
    {
        var client = Anonymous();
        await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "known@example.com", password = "password-123" });

        var wrongPassword = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "known@example.com", password = "password-999" });
        var unknownEmail = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.com", password = "password-123" });

        var a = await wrongPassword.ShouldBeProblemAsync(401, "invalid credentials");
        var b = await unknownEmail.ShouldBeProblemAsync(401, "invalid credentials");
        Assert.Equal((string?)a["detail"], (string?)b["detail"]);
    }

    [Fact]
    public async Task Unauthorized_without_a_token()
    {
        var response = await Anonymous().GetAsync("/api/v1/auth/validate");

        await response.ShouldBeProblemAsync(401, "missing token");
    }

    [Fact]
    public async Task Unauthorized_for_alg_none()
    {
        var user = await CreateUserAsync();
        var header = Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = Base64Url($"{{\"sub\":\"{user.Id}\",\"iss\":\"kanso\",\"aud\":\"kanso-app\",\"iat\":{now},\"exp\":{now + 3600}}}");

        var response = await SendWithTokenAsync($"{header}.{payload}.");

        await response.ShouldBeProblemAsync(401, "invalid token");
    }

    [Fact]
    public async Task Unauthorized_for_a_tampered_payload()
    {
        var user = await CreateUserAsync();
        var victim = await CreateUserAsync();
        var parts = Factory.Tokens.Issue(user.Id, user.Email).Token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace(user.Id.ToString(), victim.Id.ToString());

        var response = await SendWithTokenAsync($"{parts[0]}.{Base64Url(payload)}.{parts[2]}");

        await response.ShouldBeProblemAsync(401, "invalid token");
    }

    [Fact]
    public async Task Unauthorized_for_an_expired_token()
    {
        var user = await CreateUserAsync();
        var token = Mint(user.Id, issuer: "kanso", audience: "kanso-app", expires: DateTime.UtcNow.AddMinutes(-1));

        var response = await SendWithTokenAsync(token);

        await response.ShouldBeProblemAsync(401, "token expired");
    }

    [Theory]
    [InlineData("someone-else", "kanso-app")]
    [InlineData("kanso", "another-app")]
    public async Task Unauthorized_for_a_wrong_issuer_or_audience(string issuer, string audience)
    {
        var user = await CreateUserAsync();

        var response = await SendWithTokenAsync(Mint(user.Id, issuer, audience, DateTime.UtcNow.AddHours(1)));

        await response.ShouldBeProblemAsync(401, "invalid token");
    }

    [Fact]
    public async Task Unauthorized_for_a_token_signed_with_another_key()
    {
        var user = await CreateUserAsync();

        var response = await SendWithTokenAsync(Mint(user.Id, "kanso", "kanso-app", DateTime.UtcNow.AddHours(1), key: "another-signing-key-that-is-long-enough-!!"));

        await response.ShouldBeProblemAsync(401, "invalid token");
    }

    [Fact]
    public async Task Deleted_account_token_stops_working_at_once()
    {
        var user = await CreateUserAsync();
        (await user.Client.GetAsync("/api/v1/auth/validate")).EnsureSuccessStatusCode();

        var deleted = await user.Client.DeleteAsync("/api/v1/auth/user");
        var after = await user.Client.GetAsync("/api/v1/auth/validate");

        await deleted.ShouldBeAsync(200);
        await after.ShouldBeProblemAsync(401, "invalid token");
        await using var db = await OpenDatabaseAsync();
        Assert.Equal(0L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(db, "SELECT count(*) FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task Deleted_account_token_stops_working_on_another_instance_too()
    {
        var user = await CreateUserAsync();
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Fixture.Environment.RedisConfiguration!);
        var subscribers = await SubscribersAsync(redis);
        await using var other = Fixture.CreateFactory();
        var onOther = ClientFor(other, user.Id, user.Email);
        (await onOther.GetAsync("/api/v1/auth/validate")).EnsureSuccessStatusCode();
        // The other instance subscribes in the background; a deletion published before it listens would only expire.
        await TestRows.EventuallyAsync(async () => await SubscribersAsync(redis) > subscribers, "the other instance listens for deletions", TimeSpan.FromSeconds(30));

        (await user.Client.DeleteAsync("/api/v1/auth/user")).EnsureSuccessStatusCode();

        // Well under the cache's 30 s lifetime, so only the eviction message can pass this.
        await TestRows.EventuallyAsync(
            async () => (await onOther.GetAsync("/api/v1/auth/validate")).StatusCode == System.Net.HttpStatusCode.Unauthorized,
            "the other instance evicts the deleted account", TimeSpan.FromSeconds(20));
    }

    private static async Task<long> SubscribersAsync(StackExchange.Redis.IConnectionMultiplexer redis)
    {
        var reply = (StackExchange.Redis.RedisResult[])(await redis.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", "kanso:users:deleted"))!;
        return (long)reply[1];
    }

    private static async Task<string> RegisterLoginValidateAsync(KansoApiFactory factory)
    {
        var client = factory.CreateClient();
        var email = $"Someone-{Guid.NewGuid():N}@Example.com";

        var registered = await (await client.PostAsJsonAsync("/api/v1/auth/register", new { email = $"  {email} ", password = "correct horse" })).ShouldBeAsync(201);
        var login = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "correct horse" })).ShouldBeAsync(200);
        var token = (string)login["token"]!;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var validated = await (await client.GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);

        Assert.Equal(email.ToLowerInvariant(), (string?)registered["email"]);
        Assert.Equal((string?)registered["id"], (string?)login["user"]!["id"]);
        Assert.EndsWith("Z", (string?)login["expires_at"]);
        Assert.Equal("valid", (string?)validated["status"]);
        Assert.Equal((string?)registered["id"], (string?)validated["user_id"]);
        return token;
    }

    private async Task<HttpResponseMessage> SendWithTokenAsync(string token)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.GetAsync("/api/v1/auth/validate");
    }

    private static string Mint(Guid userId, string issuer, string audience, DateTime expires, string key = KansoApiFactory.SigningKey) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["sub"] = userId.ToString() },
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expires.AddHours(-1),
            NotBefore = expires.AddHours(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });

    private static string Base64Url(string text) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(text));
}
