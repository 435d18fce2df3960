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
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await _respawner!.ResetAsync(connection);
        Factory.Clock.Reset(NodaTime.SystemClock.Instance.GetCurrentInstant());
    }

    /// <summary>A second API host over the same database and Redis, with extra settings.</summary>
    public KansoApiFactory CreateFactory(IDictionary<string, string?>? settings = null) =>
        new(Environment.PostgresConnectionString, Environment.RedisConfiguration, settings);

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Environment.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>
{
    public const string Name = "api";
}
