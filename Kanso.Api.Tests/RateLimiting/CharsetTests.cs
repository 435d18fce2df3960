using System.Text;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.RateLimiting;

/// <summary>
/// The charset of a JSON body: the login's per-email bucket counts a guess whatever the encoding, and
/// no charset parameter (supported, unsupported or garbage) makes a 500.
/// </summary>
public sealed class CharsetTests(ApiFixture fixture) : RateLimitTest(fixture)
{
    [Theory]
    [InlineData("utf-16")]
    [InlineData("utf-16BE")]
    [InlineData("utf-32")]
    [InlineData("\"UTF-16LE\"")]
    public async Task Login_guesses_count_against_the_email_whatever_the_charset(string charset)
    {
        var host = Host(Limits("Login", 5, 1, Limits("Ip", 1000, 1000)));
        await ConnectedAsync(host);
        var client = host.CreateClient();
        var encoding = EncodingOf(charset);
        var statuses = new List<int>();

        for (var i = 0; i < 6; i++)
        {
            var body = $$"""{"email": "victim@example.com", "password": "guess-{{i}}-123"}""";
            var content = new ByteArrayContent(encoding.GetBytes(body));
            content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");
            using var request = From($"10.0.1.{i + 1}", HttpMethod.Post, "/api/v1/auth/login");
            request.Content = content;
            var response = await client.SendAsync(request);
            statuses.Add((int)response.StatusCode);
            if (i == 5)
            {
                await response.ShouldBeProblemAsync(429, "rate limited");
            }
        }

        Assert.Equal([401, 401, 401, 401, 401, 429], statuses);
    }

    [Theory]
    [InlineData("/api/v1/auth/register", "utf-7")]
    [InlineData("/api/v1/auth/login", "utf-7")]
    [InlineData("/api/v1/auth/login", "no-such-charset")]
    [InlineData("/api/v1/auth/register", "\"")]
    [InlineData("/api/v1/habits", "utf-7")]
    [InlineData("/api/v1/sync/push", "ibm037")]
    [InlineData("/api/v1/entries", "latin1")]
    public async Task A_charset_the_server_does_not_read_is_415_problem_details(string url, string charset)
    {
        var client = await UserClientAsync(Host([]));
        var content = new ByteArrayContent("""{"email": "a@example.com", "password": "password-123", "title": "T"}"""u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");

        var response = await client.PostAsync(url, content);

        await response.ShouldBeProblemAsync(415);
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("UTF-8")]
    [InlineData("\"utf-8\"")]
    [InlineData("utf-16")]
    public async Task A_charset_the_server_reads_binds_the_body(string charset)
    {
        var client = await UserClientAsync(Host([]));
        var encoding = EncodingOf(charset);
        var content = new ByteArrayContent(encoding.GetBytes("""{"title": "Lesen \u00fcben \ud83d\ude00"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");

        var response = await client.PostAsync("/api/v1/habits", content);

        var habit = await response.ShouldBeAsync(201);
        Assert.Equal("Lesen \u00fcben \ud83d\ude00", (string?)habit["title"]);
    }

    [Fact]
    public async Task Bytes_that_are_not_valid_in_the_named_charset_are_400_problem_details()
    {
        var client = await UserClientAsync(Host([]));
        byte[][] bodies =
        [
            [.. "{\"title\": \""u8, 0xC3, 0x28, .. "\"}"u8],
            [.. "{\"title\": \""u8, 0xFF, 0xFE, .. "\"}"u8],
        ];

        foreach (var bytes in bodies)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
            await (await client.PostAsync("/api/v1/habits", content)).ShouldBeProblemAsync(400);
        }

        var odd = new ByteArrayContent([0x7B, 0x00, 0x22, 0x00, 0x00, 0xD8]);
        odd.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-16");
        await (await client.PostAsync("/api/v1/habits", odd)).ShouldBeProblemAsync(400);
    }

    private static Encoding EncodingOf(string charset) => charset.Trim('"').ToUpperInvariant() switch
    {
        "UTF-8" => new UTF8Encoding(false),
        "UTF-16" or "UTF-16LE" => new UnicodeEncoding(bigEndian: false, byteOrderMark: false),
        "UTF-16BE" => new UnicodeEncoding(bigEndian: true, byteOrderMark: false),
        "UTF-32" => new UTF32Encoding(bigEndian: false, byteOrderMark: false),
        _ => throw new ArgumentException(charset),
    };
}
