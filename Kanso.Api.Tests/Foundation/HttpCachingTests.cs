using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Foundation;

/// <summary>ETags on the record and stats reads, and compression of large JSON answers.</summary>
public sealed class HttpCachingTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task An_unchanged_habit_list_is_304_with_its_tag_and_any_write_of_the_account_changes_the_tag()
    {
        var user = await CreateUserAsync();
        var other = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();

        var first = await user.Client.GetAsync("/api/v1/habits");
        var tag = first.Headers.ETag;
        Assert.NotNull(tag);
        Assert.True(tag!.IsWeak);
        Assert.Contains("private", first.Headers.CacheControl!.ToString());

        var again = await GetAsync(user.Client, "/api/v1/habits", tag.Tag);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(tag, again.Headers.ETag);
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(user.Client, "/api/v1/habits", "*")).StatusCode);

        // Another account's write changes nothing here; this account's write of any record does.
        await other.Client.CreateHabitIdAsync();
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(user.Client, "/api/v1/habits", tag.Tag)).StatusCode);
        await user.Client.CreateEntryIdAsync(habit);
        var changed = await GetAsync(user.Client, "/api/v1/habits", tag.Tag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(tag, changed.Headers.ETag);
    }

    [Fact]
    public async Task Tags_differ_by_request_and_account_and_are_only_on_200s()
    {
        var user = await CreateUserAsync();
        var other = await CreateUserAsync();
        var habit = await user.Client.CreateHabitIdAsync();
        var entry = await user.Client.CreateEntryIdAsync(habit);

        var list = (await user.Client.GetAsync("/api/v1/habits")).Headers.ETag;
        var one = (await user.Client.GetAsync($"/api/v1/habits/{habit}")).Headers.ETag;
        var entryTag = (await user.Client.GetAsync($"/api/v1/entries/{entry}")).Headers.ETag;
        var entries = (await user.Client.GetAsync($"/api/v1/entries?habit_id={habit}&from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z")).Headers.ETag;
        var stats = (await user.Client.GetAsync("/api/v1/stats/weekly")).Headers.ETag;
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(user.Client, "/api/v1/stats/weekly", stats!.Tag)).StatusCode);
        var statsRome = await user.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/stats/weekly") { Headers = { { "X-Timezone", "Europe/Rome" } } });
        var othersList = (await other.Client.GetAsync("/api/v1/habits")).Headers.ETag;

        var tags = new[] { list, one, entryTag, entries, stats, statsRome.Headers.ETag, othersList };
        Assert.All(tags, t => Assert.NotNull(t));
        Assert.Equal(tags.Length, tags.Select(t => t!.Tag).Distinct().Count());

        // The default window moves with the clock: no tag. A 404 has none either.
        Assert.Null((await user.Client.GetAsync($"/api/v1/entries?habit_id={habit}")).Headers.ETag);
        var missing = await GetAsync(user.Client, $"/api/v1/habits/{Guid.NewGuid()}", list!.Tag);
        await missing.ShouldBeProblemAsync(404);
        Assert.Null(missing.Headers.ETag);

        // A tag of another request or account never matches.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(user.Client, $"/api/v1/habits/{habit}", list.Tag)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(other.Client, "/api/v1/habits", list.Tag)).StatusCode);

        // X-Timezone named a new zone for the account, so its stats without the header are counted there now.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(user.Client, "/api/v1/stats/weekly", stats.Tag)).StatusCode);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task A_large_json_answer_is_compressed_by_accept_encoding(string encoding)
    {
        var user = await CreateUserAsync();
        for (var i = 0; i < 10; i++)
        {
            await user.Client.CreateHabitIdAsync(new { title = $"Habit number {i}", description = new string('d', 100) });
        }

        var plain = await user.Client.GetByteArrayAsync("/api/v1/habits");
        var response = await GetAsync(user.Client, "/api/v1/habits", acceptEncoding: encoding);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.True(plain.Length > 1024);
        Assert.Equal([encoding], response.Content.Headers.ContentEncoding);
        Assert.True(body.Length < plain.Length);
        await using Stream decoder = encoding == "gzip" ? new GZipStream(new MemoryStream(body), CompressionMode.Decompress) : new BrotliStream(new MemoryStream(body), CompressionMode.Decompress);
        using var text = new StreamReader(decoder);
        Assert.Equal(10, JsonNode.Parse(await text.ReadToEndAsync())!.AsArray().Count);
    }

    [Fact]
    public async Task A_small_answer_is_sent_as_it_is_with_its_length()
    {
        var user = await CreateUserAsync();
        await user.Client.CreateHabitIdAsync();

        var response = await GetAsync(user.Client, "/api/v1/habits", acceptEncoding: "gzip, br");
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.True(body.Length < 1024);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Single(JsonNode.Parse(body)!.AsArray());
    }

    [Fact]
    public async Task Auth_answers_are_never_compressed()
    {
        // A register problem answer over 1 KB: every field's message.
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/register")
        {
            Content = RecordApi.Json($$"""{"email":"{{new string('x', 2000)}}","password":"{{new string('p', 2000)}}"}"""),
        };
        request.Headers.AcceptEncoding.ParseAdd("gzip, br");
        var response = await Anonymous().SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.StartsWith("{", body);
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient client, string url, string? ifNoneMatch = null, string? acceptEncoding = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        if (acceptEncoding is not null)
        {
            request.Headers.AcceptEncoding.ParseAdd(acceptEncoding);
        }

        return client.SendAsync(request);
    }
}
