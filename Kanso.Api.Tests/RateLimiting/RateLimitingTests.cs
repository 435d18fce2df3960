using System.Net;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.RateLimiting;

public sealed class RateLimitingTests(ApiFixture fixture) : RateLimitTest(fixture)
{
    [Fact]
    public async Task Draft_and_earlier_headers_on_an_allowed_answer()
    {
        var host = Host(Limits("User", 120, 120));
        var client = await UserClientAsync(host);

        var response = await client.GetAsync("/api/v1/auth/validate");

        await response.ShouldBeAsync(200);
        Assert.Equal("\"user\";q=120;w=60", Header(response, "RateLimit-Policy"));
        Assert.Equal("\"user\";r=119;t=1", Header(response, "RateLimit"));
        Assert.Equal("120", Header(response, "X-RateLimit-Limit"));
        Assert.Equal("119", Header(response, "X-RateLimit-Remaining"));
        Assert.Equal("1", Header(response, "X-RateLimit-Reset"));
    }

    [Fact]
    public async Task Too_many_requests_as_problem_details_with_retry_after_when_the_user_bucket_is_empty()
    {
        var host = Host(Limits("User", 3, 1));
        var client = await UserClientAsync(host);
        for (var i = 0; i < 3; i++)
        {
            await (await client.GetAsync("/api/v1/auth/validate")).ShouldBeAsync(200);
        }

        var response = await client.GetAsync("/api/v1/auth/validate");

        var body = await response.ShouldBeProblemAsync(429, "rate limited");
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        Assert.Equal("\"user\";q=3;w=180", Header(response, "RateLimit-Policy"));
        Assert.StartsWith("\"user\";r=0;t=", Header(response, "RateLimit"));
        Assert.Equal("0", Header(response, "X-RateLimit-Remaining"));
        Assert.Equal("Too many requests", (string?)body["title"]);
    }

    [Fact]
    public async Task Bucket_refills_at_the_configured_rate()
    {
        // One token every 15 s: the three requests below meet an empty bucket unless 15 s pass between them.
        var host = Host(Limits("User", 2, 4));
        var client = await UserClientAsync(host);
        await client.GetAsync("/api/v1/auth/validate");
        await client.GetAsync("/api/v1/auth/validate");

        var refused = await client.GetAsync("/api/v1/auth/validate");

        await refused.ShouldBeProblemAsync(429, "rate limited");
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 15);
        await TestRows.EventuallyAsync(async () => (await client.GetAsync("/api/v1/auth/validate")).StatusCode == HttpStatusCode.OK, "the bucket refills", TimeSpan.FromSeconds(45));
    }

    [Fact]
    public async Task Two_hosts_share_one_bucket()
    {
        var (_, _, clientA, clientB) = await TwoHostsAsync(Limits("User", 4, 1));

        var remaining = new List<string?>();
        foreach (var client in new[] { clientA, clientB, clientA, clientB })
        {
            var response = await client.GetAsync("/api/v1/auth/validate");
            await response.ShouldBeAsync(200);
            remaining.Add(Header(response, "X-RateLimit-Remaining"));
        }

        Assert.Equal(["3", "2", "1", "0"], remaining);
        await (await clientB.GetAsync("/api/v1/auth/validate")).ShouldBeProblemAsync(429, "rate limited");
        await (await clientA.GetAsync("/api/v1/auth/validate")).ShouldBeProblemAsync(429, "rate limited");
    }

    [Fact]
    public async Task Two_hundred_concurrent_requests_against_a_budget_of_fifty_admit_exactly_fifty()
    {
        var host = Host(Limits("User", 50, 1));
        await RedisStateAsync(host, "connected");
        var client = await UserClientAsync(host);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ => (int)(await client.GetAsync("/api/v1/auth/validate")).StatusCode));

        Assert.Equal(50, statuses.Count(s => s == 200));
        Assert.Equal(150, statuses.Count(s => s == 429));
    }

    [Fact]
    public async Task Login_guessing_gets_too_many_requests_per_email_across_addresses()
    {
        var host = Host(Limits("Login", 5, 1, Limits("Ip", 1000, 1000)));
        await ConnectedAsync(host);
        var client = host.CreateClient();
        string[] spellings = ["victim@example.com", "Victim@Example.com", " VICTIM@example.com ", "victim@EXAMPLE.com", "victim@example.com"];

        for (var i = 0; i < 5; i++)
        {
            var guess = await client.SendAsync(From($"10.0.0.{i + 1}", HttpMethod.Post, "/api/v1/auth/login", new { email = spellings[i], password = $"guess-{i}-123" }));
            await guess.ShouldBeProblemAsync(401, "invalid credentials");
        }

        var sixth = await client.SendAsync(From("10.0.0.6", HttpMethod.Post, "/api/v1/auth/login", new { email = "victim@example.com", password = "guess-6-123" }));
        var other = await client.SendAsync(From("10.0.0.6", HttpMethod.Post, "/api/v1/auth/login", new { email = "someone-else@example.com", password = "guess-7-123" }));

        await sixth.ShouldBeProblemAsync(429, "rate limited");
        Assert.True(sixth.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("\"ip\";q=1000;w=60, \"login\";q=5;w=300", Header(sixth, "RateLimit-Policy"));
        Assert.Equal("5", Header(sixth, "X-RateLimit-Limit"));
        await other.ShouldBeProblemAsync(401, "invalid credentials");
    }

    [Fact]
    public async Task Login_still_binds_its_body_after_the_email_is_read()
    {
        var host = Host(Limits("Login", 5, 1));
        await ConnectedAsync(host);
        var client = host.CreateClient();
        await client.PostAsync("/api/v1/auth/register", System.Net.Http.Json.JsonContent.Create(new { email = "reader@example.com", password = "password-123" }));

        var login = await client.PostAsync("/api/v1/auth/login", System.Net.Http.Json.JsonContent.Create(new { email = "Reader@Example.com", password = "password-123" }));

        var body = await login.ShouldBeAsync(200);
        Assert.Equal("reader@example.com", (string?)body["user"]!["email"]);
        Assert.Equal("\"login\";r=4;t=60", Header(login, "RateLimit")!.Split(", ")[1]);
    }

    [Fact]
    public async Task Anonymous_routes_are_limited_per_client_address()
    {
        var host = Host(Limits("Ip", 2, 1));
        await ConnectedAsync(host);
        var client = host.CreateClient();

        var first = await client.SendAsync(From("10.1.1.1", HttpMethod.Post, "/api/v1/auth/register", new { }));
        var second = await client.SendAsync(From("10.1.1.1", HttpMethod.Post, "/api/v1/auth/register", new { }));
        var third = await client.SendAsync(From("10.1.1.1", HttpMethod.Post, "/api/v1/auth/register", new { }));
        var elsewhere = await client.SendAsync(From("10.1.1.2", HttpMethod.Post, "/api/v1/auth/register", new { }));

        await first.ShouldBeProblemAsync(400);
        Assert.Equal("\"ip\";q=2;w=120", Header(first, "RateLimit-Policy"));
        await second.ShouldBeProblemAsync(400);
        await third.ShouldBeProblemAsync(429, "rate limited");
        await elsewhere.ShouldBeProblemAsync(400);
    }

    [Fact]
    public async Task Calls_without_a_valid_token_are_limited_per_client_address()
    {
        var host = Host(Limits("Ip", 1, 1));
        await ConnectedAsync(host);
        var client = host.CreateClient();

        var first = await client.SendAsync(From("10.2.2.2", HttpMethod.Get, "/api/v1/auth/validate"));
        var second = await client.SendAsync(From("10.2.2.2", HttpMethod.Get, "/api/v1/auth/validate"));

        await first.ShouldBeProblemAsync(401);
        Assert.Equal("\"ip\";r=0;t=60", Header(first, "RateLimit"));
        await second.ShouldBeProblemAsync(429, "rate limited");
    }

    [Fact]
    public async Task Forwarded_for_is_believed_only_from_a_trusted_proxy()
    {
        var host = Host(Limits("Ip", 1, 1, new() { ["RateLimit:TrustedProxies"] = "10.0.0.100, 10.0.1.0/24" }));
        await ConnectedAsync(host);
        var client = host.CreateClient();

        var viaProxy = await client.SendAsync(From("10.0.0.100", HttpMethod.Post, "/api/v1/auth/register", new { }, "198.51.100.1"));
        var sameClientViaProxy = await client.SendAsync(From("10.0.1.7", HttpMethod.Post, "/api/v1/auth/register", new { }, "198.51.100.1"));
        var otherClientViaProxy = await client.SendAsync(From("10.0.0.100", HttpMethod.Post, "/api/v1/auth/register", new { }, "198.51.100.2"));
        var untrusted = await client.SendAsync(From("10.9.9.9", HttpMethod.Post, "/api/v1/auth/register", new { }, "198.51.100.3"));
        var untrustedSpoofing = await client.SendAsync(From("10.9.9.9", HttpMethod.Post, "/api/v1/auth/register", new { }, "198.51.100.4"));

        await viaProxy.ShouldBeProblemAsync(400);
        await sameClientViaProxy.ShouldBeProblemAsync(429, "rate limited");
        await otherClientViaProxy.ShouldBeProblemAsync(400);
        await untrusted.ShouldBeProblemAsync(400);
        await untrustedSpoofing.ShouldBeProblemAsync(429, "rate limited");
    }

    [Fact]
    public async Task Forwarded_for_is_ignored_when_no_proxy_is_trusted()
    {
        var host = Host(Limits("Ip", 1, 1));
        await ConnectedAsync(host);
        var client = host.CreateClient();

        var first = await client.SendAsync(From("10.3.3.3", HttpMethod.Post, "/api/v1/auth/register", new { }, "198.51.100.10"));
        var spoofed = await client.SendAsync(From("10.3.3.3", HttpMethod.Post, "/api/v1/auth/register", new { }, "198.51.100.11"));

        await first.ShouldBeProblemAsync(400);
        await spoofed.ShouldBeProblemAsync(429, "rate limited");
    }

    [Fact]
    public async Task Health_and_docs_are_not_limited()
    {
        var host = Host(Limits("Ip", 1, 1));
        await ConnectedAsync(host);
        var client = host.CreateClient();

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            responses.Add(await client.SendAsync(From("10.4.4.4", HttpMethod.Get, "/health")));
            responses.Add(await client.SendAsync(From("10.4.4.4", HttpMethod.Get, "/openapi/v1.json")));
        }

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(responses, r => Assert.Null(Header(r, "RateLimit-Policy")));
    }

    [Fact]
    public async Task OpenApi_documents_the_headers()
    {
        var document = await (await Anonymous().GetAsync("/openapi/v1.json")).ShouldBeAsync(200);

        var login = document["paths"]!["/api/v1/auth/login"]!["post"]!["responses"]!;
        Assert.NotNull(login["200"]!["headers"]!["RateLimit-Policy"]);
        Assert.NotNull(login["429"]!["headers"]!["Retry-After"]);
        Assert.Null(document["paths"]!["/health"]!["get"]!["responses"]!["200"]!["headers"]);
    }

    [Fact]
    public async Task In_process_buckets_limit_exactly_when_redis_is_not_configured()
    {
        var host = Host(Limits("User", 50, 1), redis: null);
        var client = await UserClientAsync(host);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ => (int)(await client.GetAsync("/api/v1/auth/validate")).StatusCode));

        Assert.Equal("disabled", await HealthAsync(host));
        Assert.Equal(50, statuses.Count(s => s == 200));
        Assert.Equal(150, statuses.Count(s => s == 429));
    }
}
