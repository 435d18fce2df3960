using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Features.KansoFlow;

/// <summary>The earlier Kanso app's flow, end to end over HTTP: it must keep working unchanged.</summary>
public sealed class KansoFlowTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task Earlier_kanso_flow_works_end_to_end()
    {
        var client = Anonymous();
        await (await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "flow@example.com", password = "password-123" })).ShouldBeAsync(201);
        var login = await (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "flow@example.com", password = "password-123" })).ShouldBeAsync(200);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login["token"]!);

        var habit = await (await client.PostAsJsonAsync("/api/v1/habits", new { title = "Read", type = "numeric", target_value = 20, unit = "pages" })).ShouldBeAsync(201);
        Assert.Equal(("numeric", 1), ((string?)habit["type"], (int)habit["version"]!));

        var entry = await (await client.PostAsJsonAsync("/api/v1/entries", new { habit_id = habit["id"]!.GetValue<string>(), completion_date = "2026-03-08T07:00:00Z", value = 12 })).ShouldBeAsync(201);
        Assert.Equal(1, (int)entry["version"]!);

        var updated = await (await client.PutAsJsonAsync($"/api/v1/entries/{entry["id"]}", new { version = 1, value = 25 })).ShouldBeAsync(200);
        Assert.Equal((2, 25d), ((int)updated["version"]!, (double)updated["value"]!));

        var stale = await (await client.PutAsJsonAsync($"/api/v1/entries/{entry["id"]}", new { version = 1, value = 30 })).ShouldBeProblemAsync(409, "version conflict");
        Assert.Equal(2, (int)stale["current"]!["version"]!);

        var listed = await (await client.GetAsync($"/api/v1/entries?habit_id={habit["id"]}&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z")).ShouldBeAsync(200);
        Assert.Equal([25d], listed.AsArray().Select(e => (double)e!["value"]!));

        await (await client.DeleteAsync($"/api/v1/entries/{entry["id"]}")).ShouldBeAsync(204);
        await (await client.DeleteAsync($"/api/v1/entries/{entry["id"]}")).ShouldBeAsync(204);

        var empty = await (await client.GetAsync($"/api/v1/entries?habit_id={habit["id"]}&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z")).ShouldBeAsync(200);
        Assert.Empty(empty.AsArray());
    }
}
