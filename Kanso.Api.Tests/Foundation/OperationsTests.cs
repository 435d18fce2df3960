using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Foundation;

public sealed class OperationsTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Health_reports_database_and_redis()
    {
        var body = await (await Anonymous().GetAsync("/health")).ShouldBeAsync(200);

        Assert.Equal("ok", (string?)body["status"]);
        Assert.Equal("connected", (string?)body["database"]);
        Assert.Equal("connected", (string?)body["redis"]);
        Assert.True((double)body["uptime"]! >= 0);
    }

    [Fact]
    public async Task OpenApi_document_has_the_bearer_scheme()
    {
        var body = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        Assert.Equal("bearer", (string?)body["components"]!["securitySchemes"]!["Bearer"]!["scheme"]);
        Assert.NotNull(body["paths"]!["/api/v1/auth/login"]);
    }

    [Fact]
    public async Task OpenApi_document_declares_security_everywhere_and_anonymous_routes_opt_out()
    {
        var body = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        Assert.Equal("[{\"Bearer\":[]}]", body["security"]!.ToJsonString());
        Assert.Equal("[{\"Bearer\":[]}]", body["paths"]!["/api/v1/habits"]!["get"]!["security"]!.ToJsonString());
        Assert.Equal("[{}]", body["paths"]!["/api/v1/auth/login"]!["post"]!["security"]!.ToJsonString());
        Assert.Equal("[{}]", body["paths"]!["/health/live"]!["get"]!["security"]!.ToJsonString());
        Assert.All(body["servers"]!.AsArray(), server => Assert.False(((string)server!["url"]!).EndsWith('/')));
    }

    [Fact]
    public async Task Scalar_offers_the_bearer_scheme()
    {
        var page = await Factory.CreateClient().GetStringAsync("/scalar/");

        Assert.Contains("\"preferredSecurityScheme\":[\"Bearer\"]", page);
    }

    [Fact]
    public async Task OpenApi_document_gives_health_its_503_with_the_same_body()
    {
        var body = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        var responses = body["paths"]!["/health"]!["get"]!["responses"]!;
        Assert.Equal(
            (string?)responses["200"]!["content"]!["application/json"]!["schema"]!["$ref"],
            (string?)responses["503"]?["content"]?["application/json"]?["schema"]?["$ref"]);
    }

    [Fact]
    public async Task OpenApi_document_gives_register_its_409()
    {
        var body = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        Assert.NotNull(body["paths"]!["/api/v1/auth/register"]!["post"]!["responses"]!["409"]);
    }

    [Theory]
    [InlineData("ProblemDetails")]
    [InlineData("HttpValidationProblemDetails")]
    public async Task OpenApi_document_gives_problems_error_and_trace_id(string schema)
    {
        var body = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        var problem = body["components"]!["schemas"]![schema]!;
        Assert.Equal("string", (string?)problem["properties"]!["error"]?["type"]);
        Assert.Equal("string", (string?)problem["properties"]!["trace_id"]?["type"]);
        Assert.Contains("error", problem["required"]?.AsArray().Select(n => (string?)n) ?? []);
        Assert.Equal(["string", "string", "integer", "string"], new[] { "type", "title", "status", "detail" }.Select(p => problem["properties"]![p]!["type"]!.ToJsonString().Trim('"')));
    }

    [Theory]
    [InlineData("HabitResponse", "end_date")]
    [InlineData("HabitResponse", "archived_at")]
    [InlineData("EntryResponse", "deleted_at")]
    public async Task OpenApi_document_gives_a_nullable_instant_as_a_nullable_date_time_string(string schema, string property)
    {
        var body = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        var field = body["components"]!["schemas"]![schema]!["properties"]![property]!;
        Assert.Equal(["null", "string"], field["type"]?.AsArray().Select(t => (string?)t).Order());
        Assert.Equal("date-time", (string?)field["format"]);
    }

    [Theory]
    [InlineData("CreateHabitRequest", "description", true)]
    [InlineData("UpdateHabitRequest", "icon", true)]
    [InlineData("UpdateHabitRequest", "unit", true)]
    [InlineData("UpdateHabitRequest", "reminder_time", true)]
    [InlineData("UpdateHabitRequest", "end_date", true)]
    [InlineData("UpdateHabitRequest", "archived_at", true)]
    [InlineData("UpdateHabitRequest", "title", false)]
    [InlineData("UpdateHabitRequest", "weekdays", true)]
    [InlineData("UpdateHabitRequest", "color", true)]
    [InlineData("UpdateEntryRequest", "notes", true)]
    [InlineData("UpdateEntryRequest", "value", false)]
    public async Task OpenApi_document_shows_as_nullable_exactly_the_fields_null_clears(string schema, string property, bool nullable)
    {
        var body = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        var type = body["components"]!["schemas"]![schema]!["properties"]![property]!["type"]!;
        Assert.Equal(nullable, type is System.Text.Json.Nodes.JsonArray types && types.Any(t => (string?)t == "null"));
    }

    [Fact]
    public async Task Scalar_is_served_and_swagger_redirects_there()
    {
        var client = Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var scalar = await Factory.CreateClient().GetAsync("/scalar");
        var swagger = await client.GetAsync("/swagger");

        Assert.Equal(200, (int)scalar.StatusCode);
        Assert.Contains("text/html", scalar.Content.Headers.ContentType?.MediaType);
        Assert.Equal(302, (int)swagger.StatusCode);
        Assert.Equal("/scalar", swagger.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Instants_are_utc_with_microseconds()
    {
        var login = await (await Anonymous().PostAsync("/api/v1/auth/register",
            System.Net.Http.Json.JsonContent.Create(new { email = "time@example.com", password = "password-123" }))).ShouldBeAsync(201);
        var token = await (await Anonymous().PostAsync("/api/v1/auth/login",
            System.Net.Http.Json.JsonContent.Create(new { email = "time@example.com", password = "password-123" }))).ShouldBeAsync(200);

        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$", (string)token["expires_at"]!);
        Assert.NotNull(login["id"]);
    }
}
