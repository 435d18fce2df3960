using Npgsql;
using Respawn;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// One database, one Redis and one API for every test in <see cref="ApiCollection"/>. The schema is
/// migrated once when the API starts; Respawn empties the tables before each test.
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    private Respawner? _respawner;

    public TestEnvironment Environment { get; private set; } = null!;

    public KansoApiFactory Factory { get; private set; } = null!;

    public string ConnectionString => Environment.PostgresConnectionString;

    public async Task InitializeAsync()
    {
        Environment = await TestEnvironment.StartAsync();
        Factory = new KansoApiFactory(Environment.PostgresConnectionString, Environment.RedisConfiguration);
        _ = Factory.Server; // starts the host, which migrates

        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        _respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            TablesToIgnore = ["schemaversions"],
        });
    }

    public async Task ResetAsync()
    {
        // The streak worker of the running host may hold row locks of the previous test's data;
        // a deadlock with Respawn's statements is retried, not a failure.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString);
                await connection.OpenAsync();
                if (TestEnvironment.UseCitus)
                {
                    await CitusReset.ResetAsync(connection);
                }
                else
                {
                    await _respawner!.ResetAsync(connection);
                }

                break;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
                await Task.Delay(50 * attempt);
            }
        }

        Factory.Clock.Reset(NodaTime.SystemClock.Instance.GetCurrentInstant());
    }

    /// <summary>A second API host over the same database and Redis, with extra settings.</summary>
    public KansoApiFactory CreateFactory(IDictionary<string, string?>? settings = null) =>
        new(Environment.PostgresConnectionString, Environment.RedisConfiguration, settings);

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Environment.DisposeAsync();

        // The end of the run: no log line any host wrote may hold a token or a password.
        if (TestLogs.Secrets() is { Count: > 0 } leaks)
        {
            throw new InvalidOperationException($"{leaks.Count} of {TestLogs.Count} captured log lines hold a token or a password:\n{string.Join('\n', leaks.Take(5))}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>
{
    public const string Name = "api";
}
