using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Kanso.Api.Tests.Infrastructure;

namespace Kanso.Api.Tests.Reliability;

/// <summary>
/// Redis that accepts connections and never answers (a hung server, a half-open proxy): the process
/// must keep serving, and the account-deletion subscriber must keep retrying instead of taking the
/// host down with it.
/// </summary>
public sealed class RedisStallTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task A_redis_that_accepts_and_never_answers_leaves_the_process_serving_and_the_subscriber_retrying()
    {
        using var stalled = new StalledServer();
        await using var api = await ApiProcess.StartAsync(Fixture.ConnectionString, $"127.0.0.1:{stalled.Port}");
        var user = await CreateUserAsync();
        using var client = api.CreateClient(Factory.Tokens.Issue(user.Id, user.Email).Token);

        // Two failed attempts: the first failure did not end the subscriber, it retried.
        await TestRows.EventuallyAsync(
            () => Task.FromResult(api.HasExited || CountOf(api.Output, "Subscribing to account deletions failed") >= 2),
            "the revocation subscriber fails twice", TimeSpan.FromSeconds(120));

        Assert.False(api.HasExited, api.Output);
        Assert.True(stalled.Accepted > 0);
        var validate = await client.GetAsync("/api/v1/auth/validate");
        await validate.ShouldBeAsync(200);
        var health = await api.CreateClient().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.DoesNotContain("Unhandled exception", api.Output, StringComparison.OrdinalIgnoreCase);
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>A TCP listener that accepts every connection and never reads or writes a byte.</summary>
    private sealed class StalledServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly ConcurrentBag<Socket> _sockets = [];
        private readonly CancellationTokenSource _stop = new();

        public StalledServer()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        _sockets.Add(await _listener.AcceptSocketAsync(_stop.Token));
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                    {
                        return;
                    }
                }
            });
        }

        public int Port { get; }

        public int Accepted => _sockets.Count;

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            _stop.Dispose();
        }
    }
}
