using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Kanso.Api.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Kanso.Api.Tests.Features.Sessions;

public sealed class SessionTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task Login_opens_a_session_whose_access_token_names_it()
    {
        var email = await RegisterAsync();

        var login = await LoginAsync(email, "Ana's phone");

        Assert.False(string.IsNullOrEmpty((string?)login["refresh_token"]));
        Assert.True(((string)login["refresh_token"]!).Length >= 43, "at least 256 bits");
        Assert.EndsWith("Z", (string?)login["refresh_expires_at"]);
        Assert.Equal((string?)login["session_id"], new JsonWebToken((string)login["token"]!).GetClaim("sid").Value);
        var sessions = (await (await Client(login).GetAsync("/api/v1/auth/sessions")).ShouldBeAsync(200)).AsArray();
        var only = Assert.Single(sessions);
        Assert.Equal("Ana's phone", (string?)only!["device_name"]);
        Assert.True((bool)only["current"]!);
        Assert.Null(only["last_sync_at"]);
    }

    [Fact]
    public async Task Refresh_rotates_the_refresh_token_and_issues_a_working_access_token()
    {
        var login = await LoginAsync(await RegisterAsync());

        var first = await RefreshAsync((string)login["refresh_token"]!);
        var body = await first.ShouldBeAsync(200);
        var second = await (await RefreshAsync((string)body["refresh_token"]!)).ShouldBeAsync(200);

        Assert.NotEqual((string?)login["refresh_token"], (string?)body["refresh_token"]);
        Assert.NotEqual((string?)body["refresh_token"], (string?)second["refresh_token"]);
        Assert.Equal((string?)login["session_id"], (string?)body["session_id"]);
        await (await Client(body).GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
        await using var db = await OpenDatabaseAsync();
        var stored = await db.QuerySingleAsync<byte[]>("SELECT refresh_hash FROM sessions");
        Assert.Equal(32, stored.Length);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(Base64Url((string)second["refresh_token"]!)), stored);
    }

    [Fact]
    public async Task A_spent_token_within_the_grace_answers_the_same_pair()
    {
        var login = await LoginAsync(await RegisterAsync());
        var spent = (string)login["refresh_token"]!;

        var first = await (await RefreshAsync(spent)).ShouldBeAsync(200);
        var retry = await (await RefreshAsync(spent)).ShouldBeAsync(200);

        Assert.Equal((string?)first["refresh_token"], (string?)retry["refresh_token"]);
        Assert.Equal((string?)first["token"], (string?)retry["token"]);
        Assert.Equal((string?)first["refresh_expires_at"], (string?)retry["refresh_expires_at"]);
        await (await RefreshAsync((string)retry["refresh_token"]!)).ShouldBeAsync(200);
    }

    [Fact]
    public async Task A_spent_token_after_the_grace_revokes_the_session_at_once_on_every_instance()
    {
        var login = await LoginAsync(await RegisterAsync());
        await using var other = Fixture.CreateFactory();
        var onOther = other.CreateClient();
        onOther.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["token"]!);
        await (await onOther.GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200); // cached as live there
        var spent = (string)login["refresh_token"]!;
        var rotated = await (await RefreshAsync(spent)).ShouldBeAsync(200);
        await (await Client(rotated).GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
        await using (var db = await OpenDatabaseAsync())
        {
            await db.ExecuteAsync("UPDATE sessions SET rotated_at = ((rotated_at AT TIME ZONE 'UTC') - interval '31 seconds') AT TIME ZONE 'UTC'");
        }

        var reuse = await RefreshAsync(spent);

        await reuse.ShouldBeProblemAsync(401, "refresh token reused");
        await (await Client(rotated).GetAsync("/api/v1/auth/validate")).ShouldBeProblemAsync(401, "invalid token");
        await (await Client(login).GetAsync("/api/v1/auth/validate")).ShouldBeProblemAsync(401, "invalid token");
        await (await RefreshAsync((string)rotated["refresh_token"]!)).ShouldBeProblemAsync(401, "invalid refresh token");
        await TestRows.EventuallyAsync(
            async () => (await onOther.GetAsync("/api/v1/auth/validate")).StatusCode == HttpStatusCode.Unauthorized,
            "the other instance refuses the revoked session's access token", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_session_list_shows_last_sync_at_after_a_pull()
    {
        var email = await RegisterAsync();
        var phone = await LoginAsync(email, "phone");
        var tablet = await LoginAsync(email, "tablet");

        var before = await SessionAsync(Client(tablet), (string)phone["session_id"]!);
        await (await Client(phone).GetAsync("/api/v1/sync/pull")).ShouldBeAsync(200);
        var after = await SessionAsync(Client(tablet), (string)phone["session_id"]!);

        Assert.Null(before["last_sync_at"]);
        Assert.NotNull(after["last_sync_at"]);
        Assert.False((bool)after["current"]!);
        Assert.True(string.CompareOrdinal((string)after["last_sync_at"]!, (string)before["created_at"]!) >= 0);
    }

    [Fact]
    public async Task Deleting_a_session_from_another_device_signs_that_device_out()
    {
        var email = await RegisterAsync();
        var phone = await LoginAsync(email, "lost phone");
        var tablet = await LoginAsync(email, "tablet");
        await (await Client(phone).GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);

        var deleted = await Client(tablet).DeleteAsync($"/api/v1/auth/sessions/{(string)phone["session_id"]!}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await (await Client(phone).GetAsync("/api/v1/auth/validate")).ShouldBeProblemAsync(401, "invalid token");
        await (await RefreshAsync((string)phone["refresh_token"]!)).ShouldBeProblemAsync(401, "invalid refresh token");
        await (await Client(tablet).GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
        await (await Client(tablet).DeleteAsync($"/api/v1/auth/sessions/{(string)phone["session_id"]!}")).ShouldBeProblemAsync(404, "session not found");
    }

    [Fact]
    public async Task A_session_of_another_account_cannot_be_deleted()
    {
        var mine = await LoginAsync(await RegisterAsync());
        var theirs = await LoginAsync(await RegisterAsync());

        var response = await Client(mine).DeleteAsync($"/api/v1/auth/sessions/{(string)theirs["session_id"]!}");

        await response.ShouldBeProblemAsync(404, "session not found");
        await (await Client(theirs).GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task A_password_change_signs_out_the_other_devices()
    {
        var email = await RegisterAsync();
        var phone = await LoginAsync(email, "phone");
        var laptop = await LoginAsync(email, "laptop");

        var wrong = await Client(laptop).PutAsJsonAsync("/api/v1/auth/password", new { current_password = "not my password", new_password = "a new password" });
        var changed = await Client(laptop).PutAsJsonAsync("/api/v1/auth/password", new { current_password = Password, new_password = "a new password" });

        await wrong.ShouldBeProblemAsync(401, "invalid credentials");
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        await (await Client(phone).GetAsync("/api/v1/auth/validate")).ShouldBeProblemAsync(401, "invalid token");
        await (await RefreshAsync((string)phone["refresh_token"]!)).ShouldBeProblemAsync(401, "invalid refresh token");
        await (await Client(laptop).GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
        await (await Anonymous().PostAsJsonAsync("/api/v1/auth/login", new { email, password = Password })).ShouldBeProblemAsync(401, "invalid credentials");
        await LoginAsync(email, password: "a new password");
    }

    [Fact]
    public async Task Logout_signs_this_device_out()
    {
        var login = await LoginAsync(await RegisterAsync());

        var response = await Client(login).PostAsync("/api/v1/auth/logout", null);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await (await Client(login).GetAsync("/api/v1/auth/validate")).ShouldBeProblemAsync(401, "invalid token");
        await (await RefreshAsync((string)login["refresh_token"]!)).ShouldBeProblemAsync(401, "invalid refresh token");
    }

    [Fact]
    public async Task An_expired_refresh_token_is_401_with_a_clear_error()
    {
        var login = await LoginAsync(await RegisterAsync());
        await using (var db = await OpenDatabaseAsync())
        {
            await db.ExecuteAsync("UPDATE sessions SET refresh_expires_at = now() - interval '1 minute'");
        }

        var response = await RefreshAsync((string)login["refresh_token"]!);

        await response.ShouldBeProblemAsync(401, "refresh token expired");
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task A_malformed_or_forged_refresh_token_is_401(string token)
    {
        var response = await RefreshAsync(token);

        await response.ShouldBeProblemAsync(401, "invalid refresh token");
    }

    [Fact]
    public async Task A_tampered_refresh_token_is_401()
    {
        var login = await LoginAsync(await RegisterAsync());
        var token = (string)login["refresh_token"]!;
        var tampered = token[..60] + (token[60] == 'A' ? 'B' : 'A') + token[61..];

        await (await RefreshAsync(tampered)).ShouldBeProblemAsync(401, "invalid refresh token");
        await (await RefreshAsync(token)).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Refresh_without_a_token_is_400()
    {
        var response = await Anonymous().PostAsJsonAsync("/api/v1/auth/refresh", new { });

        await response.ShouldBeProblemAsync(400, "validation failed");
    }

    [Fact]
    public async Task A_token_issued_before_sessions_keeps_working()
    {
        var user = await CreateUserAsync();

        await (await user.Client.GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.PostAsync("/api/v1/auth/logout", null)).StatusCode);
        await (await user.Client.GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
    }

    [Fact]
    public async Task Refresh_is_rate_limited_per_session()
    {
        await using var limited = Fixture.CreateFactory(new Dictionary<string, string?>
        {
            ["RateLimit:Login:Capacity"] = "2",
            ["RateLimit:Login:PerMinute"] = "1",
        });
        var client = limited.CreateClient();
        var email = $"limited-{Guid.NewGuid():N}@example.com";
        await (await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password = Password })).ShouldBeAsync(201);
        var login = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = Password })).ShouldBeAsync(200);
        var token = (string)login["refresh_token"]!;

        // Login drew from the email's bucket; the session's bucket is its own: two refreshes pass, the third is limited.
        var first = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = token });
        var second = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = token });
        var third = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = token });

        await first.ShouldBeAsync(200);
        await second.ShouldBeAsync(200);
        await third.ShouldBeProblemAsync(429, "rate limited");
    }

    [Fact]
    public async Task Password_guesses_draw_from_the_login_bucket_of_the_accounts_email()
    {
        await using var limited = Fixture.CreateFactory(new Dictionary<string, string?>
        {
            ["RateLimit:Login:Capacity"] = "2",
            ["RateLimit:Login:PerMinute"] = "1",
        });
        var client = limited.CreateClient();
        var email = $"guess-{Guid.NewGuid():N}@example.com";
        await (await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password = Password })).ShouldBeAsync(201);
        var login = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = Password })).ShouldBeAsync(200);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["token"]!);

        var first = await client.PutAsJsonAsync("/api/v1/auth/password", new { current_password = "guess one", new_password = "a new password" });
        var second = await client.PutAsJsonAsync("/api/v1/auth/password", new { current_password = "guess two", new_password = "a new password" });

        await first.ShouldBeProblemAsync(401, "invalid credentials");
        await second.ShouldBeProblemAsync(429, "rate limited");
    }

    private async Task<string> RegisterAsync()
    {
        var email = $"device-{Guid.NewGuid():N}@example.com";
        await (await Anonymous().PostAsJsonAsync("/api/v1/auth/register", new { email, password = Password })).ShouldBeAsync(201);
        return email;
    }

    private async Task<JsonNode> LoginAsync(string email, string? deviceName = null, string password = Password) =>
        await (await Anonymous().PostAsJsonAsync("/api/v1/auth/login", new { email, password, device_name = deviceName })).ShouldBeAsync(200);

    private Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        Anonymous().PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = refreshToken });

    private HttpClient Client(JsonNode tokens)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)tokens["token"]!);
        return client;
    }

    private static async Task<JsonNode> SessionAsync(HttpClient client, string id)
    {
        var list = (await (await client.GetAsync("/api/v1/auth/sessions")).ShouldBeAsync(200)).AsArray();
        return list.Single(s => (string?)s!["id"] == id)!;
    }

    private static byte[] Base64Url(string text) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(text);
}
