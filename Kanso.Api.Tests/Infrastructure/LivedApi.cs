using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>Requests with the headers a client sends: X-Timezone (where the user is) and Kanso-Protocol.</summary>
public static class LivedApi
{
    public static async Task<HttpResponseMessage> SendAsync(
        this HttpClient client, HttpMethod method, string url, object? body = null, string? zone = null, bool protocol2 = true)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (zone is not null)
        {
            request.Headers.Add("X-Timezone", zone);
        }

        if (protocol2)
        {
            request.Headers.Add("Kanso-Protocol", "2");
        }

        return await client.SendAsync(request);
    }

    public static async Task<JsonNode> SendOkAsync(
        this HttpClient client, HttpMethod method, string url, object? body = null, string? zone = null, bool protocol2 = true, int status = 200) =>
        await (await client.SendAsync(method, url, body, zone, protocol2)).ShouldBeAsync(status);

    /// <summary>Pulls from <paramref name="cursor"/> until has_more is false; all pages.</summary>
    public static async Task<List<JsonNode>> PullPagesAsync(this HttpClient client, string? cursor, bool protocol2, int? limit = null)
    {
        var pages = new List<JsonNode>();
        while (true)
        {
            var query = new List<string>();
            if (cursor is not null)
            {
                query.Add($"cursor={Uri.EscapeDataString(cursor)}");
            }

            if (limit is not null)
            {
                query.Add($"limit={limit}");
            }

            var page = await client.SendOkAsync(HttpMethod.Get, "/api/v1/sync/pull" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), protocol2: protocol2);
            pages.Add(page);
            cursor = (string)page["cursor"]!;
            if (!(bool)page["has_more"]!)
            {
                return pages;
            }
        }
    }
}
