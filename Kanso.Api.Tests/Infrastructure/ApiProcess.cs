using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// The built API as a real child process (for kill and signal tests): `dotnet Kanso.Api.dll` on a
/// free port with the given database, Redis and test signing key.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ApiProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _output);

    /// <param name="extraPort">A second port the server also listens on (e.g. for metrics).</param>
    public static async Task<ApiProcess> StartAsync(string postgres, string? redis, IDictionary<string, string?>? settings = null, int? port = null, int? extraPort = null)
    {
        var chosenPort = port ?? Shell.FreePort();
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(extraPort is { } extra ? $"http://127.0.0.1:{chosenPort};http://127.0.0.1:{extra}" : $"http://127.0.0.1:{chosenPort}");
        psi.Environment["ConnectionStrings__Postgres"] = postgres;
        psi.Environment["Redis__Configuration"] = redis ?? "";
        psi.Environment["Jwt__Algorithm"] = "HS256";
        psi.Environment["Jwt__SigningKey"] = KansoApiFactory.SigningKey;
        psi.Environment["Jwt__Issuer"] = "kanso";
        psi.Environment["Jwt__Audience"] = "kanso-app";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var policy in new[] { "User", "Ip", "Login" })
        {
            // Generous budgets, as in the in-process factory: these tests load the API on purpose.
            psi.Environment[$"RateLimit__{policy}__Capacity"] = "1000000";
            psi.Environment[$"RateLimit__{policy}__PerMinute"] = "1000000";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            psi.Environment[key] = value;
        }

        var process = Process.Start(psi)!;
        var api = new ApiProcess(process, chosenPort);
        process.OutputDataReceived += (_, e) => api.Receive(e.Data);
        process.ErrorDataReceived += (_, e) => api.Receive(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await api.WaitHealthyAsync(TimeSpan.FromSeconds(60));
        return api;
    }

    private void Receive(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
            TestLogs.Capture(line);
        }
    }

    public HttpClient CreateClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var client = CreateClient();
        client.Timeout = TimeSpan.FromSeconds(2);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The API exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                if ((await client.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The API did not become healthy:\n{Output}");
    }

    /// <summary>SIGTERM, as an orchestrator stops a container; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        await Shell.RunAsync("kill", ["-TERM", _process.Id.ToString()]);
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
