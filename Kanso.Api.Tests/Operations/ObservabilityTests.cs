using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Operations;

/// <summary>
/// What an operator relies on: probes, the Prometheus endpoint, JSON logs that carry the trace id a
/// problem answer shows, no secret in any log line, and traces exported over OTLP.
/// </summary>
public sealed class ObservabilityTests(ApiFixture fixture) : ApiTest(fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Metrics_are_served_in_prometheus_text_anonymously_and_outside_the_rate_limits()
    {
        await using var factory = Fixture.CreateFactory(new Dictionary<string, string?>
        {
            ["RateLimit:Ip:Capacity"] = "1",
            ["RateLimit:Ip:PerMinute"] = "1",
        });
        var client = factory.CreateClient();
        (await client.GetAsync("/health/live")).EnsureSuccessStatusCode();

        var statuses = new List<HttpStatusCode>();
        string body = "";
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/metrics");
            statuses.Add(response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            body = await response.Content.ReadAsStringAsync();
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        await TestRows.EventuallyAsync(async () => (await client.GetStringAsync("/metrics")).Contains("http_server_request_duration_seconds_bucket{"), "the request duration histogram is scraped");
        Assert.Contains("# TYPE ", body);
    }

    [Fact]
    public async Task Metrics_can_move_to_another_path_or_be_turned_off()
    {
        await using var moved = Fixture.CreateFactory(new Dictionary<string, string?> { ["Metrics:Path"] = "/internal/metrics" });
        await using var off = Fixture.CreateFactory(new Dictionary<string, string?> { ["Metrics:Enabled"] = "false" });

        var atNewPath = await moved.CreateClient().GetAsync("/internal/metrics");
        var atOldPath = await moved.CreateClient().GetAsync("/metrics");
        var whenOff = await off.CreateClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, atNewPath.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, atOldPath.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, whenOff.StatusCode);
    }

    [Fact]
    public async Task With_postgres_stopped_liveness_is_200_readiness_503_and_the_container_healthcheck_passes()
    {
        await using var postgres = await LocalPostgres.StartAsync();
        await using var api = await ApiProcess.StartAsync(postgres.ConnectionString, Fixture.Environment.RedisConfiguration);
        using var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        await postgres.StopAsync();
        var live = await client.GetAsync("/health/live");
        var ready = await client.GetAsync("/health/ready");
        var health = await client.GetAsync("/health");
        var probe = await Shell.RunForExitCodeAsync("dotnet", [typeof(Program).Assembly.Location, "healthcheck"], new Dictionary<string, string> { ["KANSO_HEALTH_PORT"] = api.Port.ToString() });

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("ok", (string?)(await live.Content.ReadFromJsonAsync<JsonObject>())!["status"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var readyBody = (await ready.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("unavailable", (string?)readyBody["status"]);
        Assert.Equal("unreachable", (string?)readyBody["database"]);
        Assert.Equal("connected", (string?)readyBody["redis"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(0, probe);
    }

    [Fact]
    public void The_image_healthcheck_runs_the_liveness_probe()
    {
        var dockerfile = File.ReadAllText(Path.Combine(RepositoryRoot(), "Dockerfile"));
        var probe = File.ReadAllText(Path.Combine(RepositoryRoot(), "Kanso.Api", "Infrastructure", "Health", "HealthProbe.cs"));

        Assert.Matches(@"HEALTHCHECK [^\n]*\\\n\s*CMD \[""dotnet"", ""/app/Kanso.Api.dll"", ""healthcheck""\]", dockerfile);
        Assert.Contains("/health/live\"", probe);
        Assert.Contains("USER $APP_UID", dockerfile);
        Assert.DoesNotContain("ASPNETCORE_URLS", dockerfile);
    }

    [Fact]
    public async Task A_problem_answer_trace_id_is_found_in_a_json_log_line_with_the_route()
    {
        var user = await CreateUserAsync();
        await using var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration);
        using var client = api.CreateClient(user.Client.DefaultRequestHeaders.Authorization!.Parameter);

        var problem = await (await client.GetAsync($"/api/v1/habits/{Guid.NewGuid()}")).ShouldBeProblemAsync(404);
        var traceId = (string)problem["trace_id"]!;

        JsonObject? line = null;
        await TestRows.EventuallyAsync(() => Task.FromResult((line = JsonLines(api.Output).FirstOrDefault(l => TraceIdOf(l) == traceId && (string?)l["Category"] == "Kanso.Requests")) is not null), "the request's log line with the trace id");
        Assert.Equal(404, (int)line!["State"]!["StatusCode"]!);
        Assert.Equal("GET", (string?)line!["State"]!["Method"]);
        Assert.Equal("/api/v1/habits/{id:guid}", (string?)line["State"]!["Route"]);
        Assert.Contains(line["Scopes"]!.AsArray(), s => (string?)s!["Route"] == "/api/v1/habits/{id:guid}");
        Assert.Contains(line["Scopes"]!.AsArray(), s => s!["SpanId"] is not null);
    }

    [Fact]
    public async Task No_log_line_holds_a_password_or_a_token_even_at_trace_level()
    {
        var everything = new Dictionary<string, string?>();
        foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "Microsoft.AspNetCore.Hosting.Diagnostics", "Npgsql", "System", "Kanso.Requests" })
        {
            everything[$"Logging__LogLevel__{category}"] = "Trace";
        }

        await using var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration, everything);
        using var anonymous = api.CreateClient();
        var email = $"secret-{Guid.NewGuid():N}@example.com";
        var password = $"pw-{Guid.NewGuid():N}";
        var wrongPassword = $"wrong-{Guid.NewGuid():N}";

        await (await anonymous.PostAsJsonAsync("/api/v1/auth/register", new { email, password })).ShouldBeAsync(201);
        await (await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password = wrongPassword })).ShouldBeProblemAsync(401);
        var token = (string)(await (await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password })).ShouldBeAsync(200))["token"]!;
        var tampered = token[..^4] + (token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        using var client = api.CreateClient(token);
        await (await client.GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
        await (await client.PostAsJsonAsync("/api/v1/habits", new { title = "Read" })).ShouldBeAsync(201);
        using var forged = api.CreateClient(tampered);
        await (await forged.GetAsync("/api/v1/habits")).ShouldBeProblemAsync(401);
        await (await client.PostAsync("/api/v1/habits", new StringContent("{\"title\": ", System.Text.Encoding.UTF8, "application/json"))).ShouldBeProblemAsync(400);
        await (await client.DeleteAsync("/api/v1/auth/user")).ShouldBeAsync(200);
        await TestRows.EventuallyAsync(() => Task.FromResult(api.Output.Contains("DELETE /api/v1/auth/user answered")), "the last request is logged");

        var output = api.Output;
        Assert.Contains("POST /api/v1/auth/login answered 200", output);
        foreach (var secret in new[] { password, wrongPassword, token, tampered, token.Split('.')[2], tampered.Split('.')[2] })
        {
            Assert.DoesNotContain(secret, output);
        }

        Assert.DoesNotContain("Bearer ey", output);
    }

    [Fact]
    public async Task A_push_produces_asp_net_core_npgsql_and_kanso_spans_in_one_trace_at_an_otlp_collector()
    {
        var user = await CreateUserAsync();
        await using var collector = OtlpListener.Start();
        await using var api = await ApiProcess.StartAsync(Fixture.ConnectionString, Fixture.Environment.RedisConfiguration, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        using var client = api.CreateClient(user.Client.DefaultRequestHeaders.Authorization!.Parameter);

        using var response = await client.PostAsJsonAsync("/api/v1/sync/push", new
        {
            mutations = new[] { new { mutation_id = "m1", op = "upsert_habit", id = Guid.NewGuid(), version = 0, data = new { title = "Traced" } } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        OtlpSpan? server = null;
        await TestRows.EventuallyAsync(
            () => Task.FromResult((server = collector.Spans.FirstOrDefault(s => s.Scope == "Microsoft.AspNetCore" && s.Name == "POST /api/v1/sync/push")) is not null
                && collector.Spans.Any(s => s.Scope == "Npgsql" && s.TraceId == server.TraceId)
                && collector.Spans.Any(s => s.Scope == "Kanso.Api" && s.TraceId == server.TraceId)),
            "the server span, its database spans and Kanso's mutation span arrive",
            Patience);
        var trace = collector.Spans.Where(s => s.TraceId == server!.TraceId).ToList();
        var mutation = Assert.Single(trace, s => s.Scope == "Kanso.Api");
        Assert.Equal("kanso.push.mutation", mutation.Name);
        Assert.Equal(server!.SpanId, mutation.ParentSpanId);
        Assert.Contains(trace, s => s.Scope == "Npgsql" && s.ParentSpanId == mutation.SpanId);
        Assert.All(trace.Where(s => s != server), s => Assert.Contains(trace, p => p.SpanId == s.ParentSpanId));
        Assert.Contains("/v1/traces", collector.Paths);
    }

    private static IEnumerable<JsonObject> JsonLines(string output)
    {
        foreach (var text in output.Split('\n'))
        {
            if (!text.StartsWith('{'))
            {
                continue;
            }

            JsonObject? line = null;
            try
            {
                line = JsonNode.Parse(text) as JsonObject;
            }
            catch (JsonException)
            {
            }

            if (line is not null)
            {
                yield return line;
            }
        }
    }

    private static string? TraceIdOf(JsonObject line) =>
        line["Scopes"] is JsonArray scopes ? scopes.Select(s => (string?)s?["TraceId"]).FirstOrDefault(t => t is not null) : null;

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kanso.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Kanso.sln not found above the test binaries.");
    }
}
