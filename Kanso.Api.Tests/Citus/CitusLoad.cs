using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Citus;

/// <summary>One answer the load saw: when it was asked and answered, and how.</summary>
public sealed record LoadAnswer(Guid UserId, TimeSpan Start, TimeSpan End, int Status, bool RetryAfter, string Route);

/// <summary>
/// A mixed load of clients, one per user, each doing what a phone does: entry creates through REST,
/// entry creates through a sync push, and pulls from its own cursor. A write that answers 503 is
/// retried with the same id (or mutation_id) until acknowledged, as a client's queue does, so every
/// acknowledged write is known. Every answer is recorded; nothing but 2xx and 503 with Retry-After is
/// expected, and anything else is kept in <see cref="Unexpected"/>.
/// </summary>
public sealed class CitusLoad
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<LoadAnswer> _answers = new();
    private readonly ConcurrentQueue<string> _unexpected = new();

    public IReadOnlyCollection<LoadAnswer> Answers => _answers;

    public IReadOnlyCollection<string> Unexpected => _unexpected;

    public TimeSpan Now => _clock.Elapsed;

    public async Task RunAsync(IReadOnlyList<LoadClient> clients, CancellationToken stop) =>
        await Task.WhenAll(clients.Select(c => Task.Run(() => c.RunAsync(this, stop))));

    /// <summary>Sends until the answer is not a 503 (waiting a little between tries); returns it.</summary>
    public async Task<(int Status, JsonNode? Body)> SendAsync(Guid userId, string route, Func<Task<HttpResponseMessage>> send, CancellationToken stop, bool retry = true)
    {
        while (true)
        {
            var start = Now;
            int status;
            bool retryAfter;
            string text;
            try
            {
                using var response = await send();
                status = (int)response.StatusCode;
                retryAfter = response.Headers.RetryAfter is not null;
                text = await response.Content.ReadAsStringAsync(CancellationToken.None);
            }
            catch (HttpRequestException ex)
            {
                _unexpected.Enqueue($"{route}: {ex.Message}");
                status = 0;
                retryAfter = false;
                text = "";
            }

            _answers.Enqueue(new LoadAnswer(userId, start, Now, status, retryAfter, route));
            if (status is >= 200 and < 300)
            {
                return (status, text.Length == 0 ? null : JsonNode.Parse(text));
            }

            if (status != (int)HttpStatusCode.ServiceUnavailable || !retryAfter)
            {
                _unexpected.Enqueue($"{route}: {status} {text}");
            }

            if (!retry || (stop.IsCancellationRequested && status != (int)HttpStatusCode.ServiceUnavailable))
            {
                return (status, null);
            }

            await Task.Delay(100, CancellationToken.None);
        }
    }

    /// <summary>The longest time a client went from its first 503 to its next 2xx.</summary>
    public TimeSpan LongestUnavailable()
    {
        var longest = TimeSpan.Zero;
        foreach (var user in _answers.GroupBy(a => a.UserId))
        {
            TimeSpan? since = null;
            foreach (var answer in user.OrderBy(a => a.End))
            {
                if (answer.Status == 503)
                {
                    since ??= answer.Start;
                }
                else if (answer.Status is >= 200 and < 300 && since is { } from)
                {
                    longest = answer.End - from > longest ? answer.End - from : longest;
                    since = null;
                }
            }
        }

        return longest;
    }
}

/// <summary>One user's client in <see cref="CitusLoad"/>: what it was told is stored, and what its pulls have shown it.</summary>
public sealed class LoadClient(Guid userId, Guid habitId, HttpClient client)
{
    public Guid UserId { get; } = userId;

    public HttpClient Client { get; } = client;

    public List<Guid> Acknowledged { get; } = [];

    public HashSet<Guid> Pulled { get; } = [];

    public string? Cursor { get; private set; }

    public int Gone { get; private set; }

    public async Task RunAsync(CitusLoad load, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            switch (i % 3)
            {
                case 0:
                    await CreateEntryAsync(load, stop);
                    break;
                case 1:
                    await SendEntryMutationAsync(load, stop);
                    break;
                default:
                    await PullAsync(load, stop);
                    break;
            }
        }
    }

    public async Task CreateEntryAsync(CitusLoad load, CancellationToken stop)
    {
        var id = Guid.NewGuid();
        var body = new { id, habit_id = habitId, completion_date = "2026-03-08T07:00:00Z", value = 1 };
        var (status, _) = await load.SendAsync(UserId, "POST /entries", () => Client.PostAsJsonAsync("/api/v1/entries", body), stop);
        if (status is 200 or 201)
        {
            Acknowledged.Add(id);
        }
    }

    public async Task SendEntryMutationAsync(CitusLoad load, CancellationToken stop)
    {
        var id = Guid.NewGuid();
        var body = new
        {
            mutations = new[]
            {
                new { mutation_id = Guid.NewGuid().ToString(), op = "upsert_entry", id, data = new { habit_id = habitId, completion_date = "2026-03-09T07:00:00Z", value = 2 } },
            },
        };
        var (status, answer) = await load.SendAsync(UserId, "POST /sync/push", () => Client.PostAsJsonAsync("/api/v1/sync/push", body), stop);
        if (status == 200 && (string?)answer!["results"]![0]!["status"] == "applied")
        {
            Acknowledged.Add(id);
        }
    }

    /// <summary>Pulls from the cursor until has_more is false (or the load stops during a 503).</summary>
    public async Task PullAsync(CitusLoad load, CancellationToken stop)
    {
        while (true)
        {
            var url = "/api/v1/sync/pull?limit=200" + (Cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(Cursor));
            var (status, page) = await load.SendAsync(UserId, "GET /sync/pull", () => Client.GetAsync(url), stop);
            if (status == 410)
            {
                Gone++;
            }

            if (page is null)
            {
                return;
            }

            foreach (var entry in page["entries"]!.AsArray())
            {
                Pulled.Add(Guid.Parse((string)entry!["id"]!));
            }

            Cursor = (string)page["cursor"]!;
            if (!(bool)page["has_more"]!)
            {
                return;
            }
        }
    }
}
