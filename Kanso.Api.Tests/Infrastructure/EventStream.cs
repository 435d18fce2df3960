using System.Threading.Channels;
using Dapper;
using Kanso.Api.Domain.Sync;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// A client's view of <c>GET /api/v1/sync/events</c>: the stream is read in the background, each
/// event's name (or "ping" for a comment line, "end" when the server closed it) queued in order.
/// </summary>
public sealed class EventStream : IAsyncDisposable
{
    public const string End = "end";
    public const string Ping = "ping";

    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>();
    private Task _reader = Task.CompletedTask;

    private EventStream(HttpResponseMessage response) => Response = response;

    public HttpResponseMessage Response { get; }

    public static async Task<EventStream> OpenAsync(HttpClient client)
    {
        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/sync/events"), HttpCompletionOption.ResponseHeadersRead);
        var stream = new EventStream(response);
        if (response.IsSuccessStatusCode)
        {
            stream._reader = Task.Run(stream.ReadAsync);
        }

        return stream;
    }

    /// <summary>Opens a stream and takes its opening <c>change</c>.</summary>
    public static async Task<EventStream> OpenReadyAsync(HttpClient client)
    {
        var stream = await OpenAsync(client);
        Assert.True(stream.Response.IsSuccessStatusCode, $"The stream answered {(int)stream.Response.StatusCode}.");
        Assert.Equal("change", await stream.NextAsync());
        return stream;
    }

    /// <summary>The next event that is not a ping (bounded wait).</summary>
    public async Task<string> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            string name;
            try
            {
                name = await _events.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException("No event came on the stream in time.");
            }

            if (name != Ping)
            {
                return name;
            }
        }
    }

    /// <summary>The next event of any kind, pings included (bounded wait).</summary>
    public async Task<string> NextIncludingPingsAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        return await _events.Reader.ReadAsync(cts.Token);
    }

    private async Task ReadAsync()
    {
        try
        {
            await using var body = await Response.Content.ReadAsStreamAsync(_stop.Token);
            using var reader = new StreamReader(body);
            string? name = null;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (name is not null)
                    {
                        _events.Writer.TryWrite(name);
                    }

                    name = null;
                }
                else if (line.StartsWith(':'))
                {
                    _events.Writer.TryWrite(Ping);
                }
                else if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    name = line["event:".Length..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    name ??= "message";
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
        }

        _events.Writer.TryWrite(End);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Response.Dispose();
        await _reader;
        _stop.Dispose();
    }
}

/// <summary>Waiting on the hints a host receives, without a stream.</summary>
public static class Hints
{
    /// <summary>
    /// Returns once every hint committed before this call has reached <paramref name="host"/>: the
    /// host listens on one connection and PostgreSQL delivers notifications in commit order, so a
    /// marker sent now arrives after all of them.
    /// </summary>
    public static async Task DeliveredAsync(KansoApiFactory host, string connectionString)
    {
        var marker = Guid.NewGuid();
        using var subscription = host.Services.GetRequiredService<ChangeHintHub>().TrySubscribe(marker)!;
        await using (var db = new NpgsqlConnection(connectionString))
        {
            await db.ExecuteAsync(ChangeHints.NotifySql, new { userId = marker });
        }

        Assert.True(await subscription.WaitAsync(TimeSpan.FromSeconds(20), CancellationToken.None), "the host's listener received the marker hint");
    }

    internal static ChangeSubscription Subscribe(KansoApiFactory host, Guid userId) =>
        host.Services.GetRequiredService<ChangeHintHub>().TrySubscribe(userId)!;
}
