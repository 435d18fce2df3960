using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>Runs a command to completion and throws with its output when it fails.</summary>
internal static class Shell
{
    public static bool IsRoot => Environment.UserName == "root";

    public static async Task<string> RunAsync(string file, IEnumerable<string> args, bool asPostgresUser = false, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgresUser && IsRoot)
        {
            psi.FileName = "runuser";
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.FileName = file;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', psi.ArgumentList)} exited {process.ExitCode}: {await stdout}{await stderr}");
        }

        return await stdout;
    }

    /// <summary>Runs a command with extra environment variables and returns its exit code, whatever it is.</summary>
    public static async Task<int> RunForExitCodeAsync(string file, IEnumerable<string> args, IDictionary<string, string> environment, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        await Task.WhenAll(stdout, stderr);
        return process.ExitCode;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A binary from PATH, else from Debian's versioned PostgreSQL folders (newest first).</summary>
    public static string? Find(string name, params string[] extraGlobs)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (var root in extraGlobs)
        {
            if (!Directory.Exists(root))
            {
                continue;
            }

            var found = Directory.GetDirectories(root)
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin", name))
                .FirstOrDefault(File.Exists);
            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }
}

/// <summary>
/// A throwaway PostgreSQL cluster from the local binaries: initdb + pg_ctl in a temp folder on a free
/// port, run as the postgres user when we are root (PostgreSQL refuses to run as root). It can be
/// stopped and started again on the same port, for outage tests.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _pgCtl;
    private readonly string _extraOptions;

    private LocalPostgres(string root, string pgCtl, int port, string extraOptions)
    {
        _root = root;
        _pgCtl = pgCtl;
        Port = port;
        _extraOptions = extraOptions;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=kanso;Include Error Detail=true";

    public static bool Available => Shell.Find("initdb", "/usr/lib/postgresql") is not null;

    /// <param name="extraOptions">More server settings (<c>-c name=value ...</c>), e.g. to load Citus.</param>
    public static async Task<LocalPostgres> StartAsync(string extraOptions = "")
    {
        var initdb = Shell.Find("initdb", "/usr/lib/postgresql") ?? throw new InvalidOperationException("initdb not found: install Debian's postgresql package.");
        var pgCtl = Path.Combine(Path.GetDirectoryName(initdb)!, "pg_ctl");
        if (!File.Exists(pgCtl))
        {
            pgCtl = Shell.Find("pg_ctl", "/usr/lib/postgresql")!;
        }

        var root = Path.Combine(Path.GetTempPath(), $"kanso-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        if (Shell.IsRoot)
        {
            await Shell.RunAsync("chown", ["-R", "postgres:postgres", root]);
        }

        var server = new LocalPostgres(root, pgCtl, Shell.FreePort(), extraOptions);
        await Shell.RunAsync(initdb, ["-D", server.DataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"], asPostgresUser: true, TimeSpan.FromMinutes(2));
        await server.StartAgainAsync();
        await using (var admin = new Npgsql.NpgsqlConnection($"Host=127.0.0.1;Port={server.Port};Username=postgres;Database=postgres;Pooling=false"))
        {
            await admin.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand("CREATE DATABASE kanso", admin);
            await create.ExecuteNonQueryAsync();
        }

        return server;
    }

    private string DataDir => Path.Combine(_root, "data");

    public Task StartAgainAsync() => Shell.RunAsync(_pgCtl, [
        "-D", DataDir, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 {_extraOptions}",
        "start",
    ], asPostgresUser: true, TimeSpan.FromSeconds(90));

    public Task StopAsync(string mode = "fast") => Shell.RunAsync(_pgCtl, ["-D", DataDir, "-m", mode, "-w", "stop"], asPostgresUser: true);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync("immediate");
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A throwaway redis-server on a free port, without persistence; it can be stopped and restarted.</summary>
public sealed class LocalRedis : IAsyncDisposable
{
    private readonly string _binary;
    private Process? _process;

    private LocalRedis(string binary, int port)
    {
        _binary = binary;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public static bool Available => Shell.Find("redis-server") is not null;

    public static async Task<LocalRedis> StartAsync()
    {
        var redis = new LocalRedis(Shell.Find("redis-server") ?? throw new InvalidOperationException("redis-server not found: install Debian's redis-server package."), Shell.FreePort());
        await redis.StartAgainAsync();
        return redis;
    }

    public async Task StartAgainAsync()
    {
        var psi = new ProcessStartInfo(_binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no" })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on {Port}.");
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>Whether a Docker engine answers, decided within a second and never hanging.</summary>
internal static class DockerProbe
{
    public static async Task<bool> EngineAnswersAsync()
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            Socket socket;
            EndPoint endpoint;
            if (string.IsNullOrEmpty(host) || host.StartsWith("unix://", StringComparison.Ordinal))
            {
                var path = string.IsNullOrEmpty(host) ? "/var/run/docker.sock" : host["unix://".Length..];
                if (!File.Exists(path))
                {
                    return false;
                }

                socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                endpoint = new UnixDomainSocketEndPoint(path);
            }
            else if (Uri.TryCreate(host, UriKind.Absolute, out var uri) && uri.Scheme == "tcp")
            {
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                endpoint = new DnsEndPoint(uri.Host, uri.Port);
            }
            else
            {
                return false;
            }

            using (socket)
            {
                await socket.ConnectAsync(endpoint, cts.Token);
                await socket.SendAsync("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"u8.ToArray(), cts.Token);
                var buffer = new byte[256];
                var read = await socket.ReceiveAsync(buffer, cts.Token);
                return System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains(" 200 ", StringComparison.Ordinal);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
