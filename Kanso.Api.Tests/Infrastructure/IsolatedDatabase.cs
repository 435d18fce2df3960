using Dapper;
using Npgsql;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// A new, empty database on the fixture's server, for tests whose claim the shared host could
/// fake: its streak worker's sweep (every 30 s) cleans any dirty row of the shared database. A host
/// started on this database migrates it; no other host ever touches its rows.
/// </summary>
public static class IsolatedDatabase
{
    public static async Task<string> CreateIsolatedDatabaseAsync(this ApiFixture fixture)
    {
        var name = $"kanso_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(fixture.ConnectionString))
        {
            await admin.ExecuteAsync($"CREATE DATABASE {name}");
        }

        return new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>A user inserted directly into <paramref name="connectionString"/>'s database, and a client of <paramref name="host"/> with their token.</summary>
    public static async Task<TestUser> InsertUserAsync(this KansoApiFactory host, string connectionString)
    {
        var id = Guid.NewGuid();
        var email = $"user-{id:N}@example.com";
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.ExecuteAsync(
                "INSERT INTO users (id, email, timezone) VALUES (@id, @email, 'UTC')", new { id, email });
        }

        return new TestUser(id, email, ApiTest.ClientFor(host, id, email));
    }
}
