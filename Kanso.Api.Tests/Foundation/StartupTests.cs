using System.Diagnostics;
using Dapper;
using Kanso.Api.Tests.Infrastructure;
using Npgsql;

namespace Kanso.Api.Tests.Foundation;

[Collection(ApiCollection.Name)]
public sealed class StartupTests(ApiFixture fixture)
{
    [Fact]
    public async Task Two_hosts_starting_together_migrate_an_empty_database_once()
    {
        var connectionString = await CreateEmptyDatabaseAsync();
        await using var a = new KansoApiFactory(connectionString, redis: null);
        await using var b = new KansoApiFactory(connectionString, redis: null);

        await Task.WhenAll(Task.Run(() => a.Server), Task.Run(() => b.Server));

        Assert.Equal(200, (int)(await a.CreateClient().GetAsync("/health")).StatusCode);
        Assert.Equal(200, (int)(await b.CreateClient().GetAsync("/health")).StatusCode);
        await using var db = new NpgsqlConnection(connectionString);
        var scripts = (await db.QueryAsync<string>("SELECT scriptname FROM schemaversions")).ToList();
        Assert.Equal(scripts.Count, scripts.Distinct().Count());
        Assert.Contains(scripts, s => s.EndsWith("0001_init.sql", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Missing_connection_string_stops_start_up_with_one_line_naming_it()
    {
        var (exitCode, stdout, stderr) = await RunApiAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = null,
            ["Jwt__SigningKey"] = KansoApiFactory.SigningKey,
        });

        Assert.NotEqual(0, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("ConnectionStrings__Postgres", lines[0]);
        Assert.DoesNotContain("Exception", stdout + stderr);
    }

    [Fact]
    public async Task Unreachable_database_stops_start_up_with_one_line_after_waiting_for_it()
    {
        var (exitCode, _, stderr) = await RunApiAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={Shell.FreePort()};Username=postgres;Database=kanso;Timeout=2",
            ["Jwt__SigningKey"] = KansoApiFactory.SigningKey,
        }, TimeSpan.FromSeconds(90));

        Assert.Equal(1, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("Kanso cannot start: the database is unreachable", StringComparison.Ordinal) && l.Contains("ConnectionStrings__Postgres", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Short_signing_key_stops_start_up_naming_it()
    {
        var (exitCode, _, stderr) = await RunApiAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = fixture.ConnectionString,
            ["Jwt__SigningKey"] = "too-short",
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Jwt__SigningKey", stderr);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData("")]
    public async Task A_signing_key_published_in_the_repository_stops_start_up_outside_development(string environment)
    {
        var (exitCode, stdout, stderr) = await RunApiAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = fixture.ConnectionString,
            ["Jwt__SigningKey"] = "development-only-signing-key-change-me-0123456789",
            ["ASPNETCORE_ENVIRONMENT"] = environment,
        });

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Kanso cannot start:", line, StringComparison.Ordinal);
        Assert.Contains("Jwt__SigningKey", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compose_requires_the_signing_key_and_run_local_ships_none()
    {
        var root = RepositoryRoot();
        var compose = await File.ReadAllTextAsync(Path.Combine(root, "compose.yaml"));
        var runLocal = await File.ReadAllTextAsync(Path.Combine(root, "scripts", "run-local.sh"));

        Assert.Contains("Jwt__SigningKey: ${KANSO_JWT_SIGNING_KEY:?", compose, StringComparison.Ordinal);
        Assert.DoesNotContain("development-only-signing-key", compose, StringComparison.Ordinal);
        Assert.DoesNotContain("development-only-signing-key", runLocal, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Kanso.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Kanso.sln not found above the test binaries.");
    }

    [Fact]
    public async Task Bad_rate_limit_stops_start_up_naming_it()
    {
        var (exitCode, _, stderr) = await RunApiAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = fixture.ConnectionString,
            ["Jwt__SigningKey"] = KansoApiFactory.SigningKey,
            ["RateLimit__User__Capacity"] = "0",
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("RateLimit__User__Capacity", stderr);
    }

    private async Task<string> CreateEmptyDatabaseAsync()
    {
        var name = $"kanso_{Guid.NewGuid():N}";
        await using var admin = new NpgsqlConnection(fixture.ConnectionString);
        await admin.ExecuteAsync($"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunApiAsync(Dictionary<string, string?> environment, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{Shell.FreePort()}");
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.Ordinal) || k.StartsWith("Jwt__", StringComparison.Ordinal) || k.StartsWith("RateLimit__", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_ENVIRONMENT", StringComparison.Ordinal) || k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException("The API did not stop on a bad configuration.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
