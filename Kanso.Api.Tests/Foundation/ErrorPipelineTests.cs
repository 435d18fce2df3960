using System.Net.Http.Json;
using System.Text;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Foundation;

public sealed class ErrorPipelineTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Bad_request_for_malformed_json()
    {
        var response = await Anonymous().PostAsync("/api/v1/auth/register", new StringContent("{\"email\": ", Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemAsync(400, "invalid json");
    }

    [Fact]
    public async Task Bad_request_naming_the_field_for_a_wrong_type()
    {
        var response = await Anonymous().PostAsync("/api/v1/auth/register", new StringContent("{\"email\": 42, \"password\": \"password-123\"}", Encoding.UTF8, "application/json"));

        var body = await response.ShouldBeProblemAsync(400, "invalid json");
        Assert.NotNull(body["errors"]!["email"]);
    }

    [Fact]
    public async Task Bad_request_for_a_nul_character()
    {
        var response = await Anonymous().PostAsync("/api/v1/auth/register", new StringContent("{\"email\": \"a\\u0000@example.com\", \"password\": \"password-123\"}", Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemAsync(400, "invalid json");
    }

    [Fact]
    public async Task Bad_request_for_nesting_too_deep()
    {
        var deep = new string('[', 100) + new string(']', 100);

        var response = await Anonymous().PostAsync("/api/v1/auth/register", new StringContent($"{{\"email\": {deep}}}", Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemAsync(400);
    }

    [Fact]
    public async Task Bad_request_saying_a_body_is_required_when_it_is_empty()
    {
        var response = await Anonymous().PostAsync("/api/v1/auth/register", new StringContent("", Encoding.UTF8, "application/json"));

        var body = await response.ShouldBeProblemAsync(400);
        Assert.Equal("A JSON body is required.", (string?)body["detail"]);
    }

    [Fact]
    public async Task Unsupported_media_type_for_text_plain()
    {
        var response = await Anonymous().PostAsync("/api/v1/auth/register", new StringContent("email=a@example.com", Encoding.UTF8, "text/plain"));

        await response.ShouldBeProblemAsync(415, "unsupported media type");
    }

    [Fact]
    public async Task Payload_too_large_for_two_mebibytes()
    {
        var big = new string('x', 2 * 1024 * 1024);

        var response = await Anonymous().PostAsync("/api/v1/auth/register", new StringContent($"{{\"email\": \"{big}\"}}", Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemAsync(413, "payload too large");
    }

    [Fact]
    public async Task Service_unavailable_with_retry_after_when_the_database_keeps_a_request_waiting_past_the_timeout()
    {
        var user = await CreateUserAsync();
        await using var db = await OpenDatabaseAsync();
        await using var hold = await db.BeginTransactionAsync();
        await Dapper.SqlMapper.ExecuteAsync(db, "SELECT 1 FROM users WHERE id = @id FOR UPDATE", new { id = user.Id }, hold);

        var response = await user.Client.PostAsJsonAsync("/api/v1/habits", new { title = "Waits for the lock" });

        await response.ShouldBeProblemAsync(503);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Not_found_for_an_unknown_route()
    {
        var response = await Anonymous().GetAsync("/api/v1/no-such-thing");

        await response.ShouldBeProblemAsync(404, "not found");
    }

    [Fact]
    public async Task Bad_request_for_an_unknown_timezone()
    {
        var user = await CreateUserAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/validate") { Headers = { { "X-Timezone", "Mars/Olympus_Mons" } } };

        var response = await user.Client.SendAsync(request);

        await response.ShouldBeProblemAsync(400, "invalid timezone");
    }

    [Fact]
    public async Task Valid_timezone_is_remembered_on_the_user()
    {
        var user = await CreateUserAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/validate") { Headers = { { "X-Timezone", "Europe/Rome" } } };

        (await user.Client.SendAsync(request)).EnsureSuccessStatusCode();

        await using var db = await OpenDatabaseAsync();
        Assert.Equal("Europe/Rome", await Dapper.SqlMapper.ExecuteScalarAsync<string>(db, "SELECT timezone FROM users WHERE id = @id", new { id = user.Id }));
    }

    [Fact]
    public async Task Empty_timezone_counts_as_absent()
    {
        var user = await CreateUserAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/validate");
        request.Headers.TryAddWithoutValidation("X-Timezone", "");

        var response = await user.Client.SendAsync(request);

        await response.ShouldBeAsync(200);
    }
}
