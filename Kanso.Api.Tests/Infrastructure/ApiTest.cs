using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>Base of every database test: a clean database before each test, and real users with real tokens.</summary>
[Collection(ApiCollection.Name)]
public abstract class ApiTest(ApiFixture fixture) : IAsyncLifetime
{
    protected ApiFixture Fixture { get; } = fixture;

    protected KansoApiFactory Factory => Fixture.Factory;

    public virtual Task InitializeAsync() => Fixture.ResetAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>An anonymous client.</summary>
    protected HttpClient Anonymous() => Factory.CreateClient();

    /// <summary>A user inserted directly (no password hashing cost) and a client carrying their real JWT.</summary>
    protected async Task<TestUser> CreateUserAsync(string? timezone = null)
    {
        var id = Guid.NewGuid();
        var email = $"user-{id:N}@example.com";
        await using (var connection = new NpgsqlConnection(Fixture.ConnectionString))
        {
            await connection.ExecuteAsync(
                "INSERT INTO users (id, email, timezone) VALUES (@id, @email, @timezone)",
                new { id, email, timezone = timezone ?? "UTC" });
        }

        return new TestUser(id, email, ClientFor(Factory, id, email));
    }

    internal static HttpClient ClientFor(KansoApiFactory factory, Guid id, string email)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", factory.Tokens.Issue(id, email).Token);
        return client;
    }

    protected async Task<NpgsqlConnection> OpenDatabaseAsync()
    {
        var connection = new NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}

public sealed record TestUser(Guid Id, string Email, HttpClient Client);

public static class HttpAssertions
{
    /// <summary>Asserts a problem details answer with the contract's fields and returns its body.</summary>
    public static async Task<JsonObject> ShouldBeProblemAsync(this HttpResponseMessage response, int status, string? error = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(status, (int)body["status"]!);
        Assert.False(string.IsNullOrEmpty((string?)body["type"]));
        Assert.False(string.IsNullOrEmpty((string?)body["title"]));
        Assert.False(string.IsNullOrEmpty((string?)body["detail"]));
        Assert.False(string.IsNullOrEmpty((string?)body["trace_id"]));
        Assert.False(string.IsNullOrEmpty((string?)body["error"]));
        if (error is not null)
        {
            Assert.Equal(error, (string?)body["error"]);
        }

        return body;
    }

    public static async Task<JsonNode> ShouldBeAsync(this HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body);
}
