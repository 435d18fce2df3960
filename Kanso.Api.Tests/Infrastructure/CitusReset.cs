using Dapper;
using Npgsql;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// Empties Kanso's tables on a Citus cluster before each test. Respawn truncates, which on Citus
/// truncates every shard (a new file for each of 160 shards and their indexes, over a second per
/// test); deleting the few rows a test leaves is a fraction of that. Deleting the users takes their
/// rows in every other table with them (ON DELETE CASCADE, shard by shard on the workers), so two
/// statements reach every table. The list is checked against the schema, so a new table cannot be
/// forgotten.
/// </summary>
internal static class CitusReset
{
    // Deleted directly; the others go with their user.
    private static readonly string[] Roots = ["users", "logins"];

    private static readonly string[] Tables = [.. Roots, "habits", "habit_entries", "sync_mutations", "sessions", "time_off"];

    private static bool _checked;

    public static async Task ResetAsync(NpgsqlConnection connection)
    {
        if (!_checked)
        {
            var actual = (await connection.QueryAsync<string>(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schemaversions'")).ToHashSet();
            Assert.True(actual.SetEquals(Tables), $"CitusReset.Tables must list every table: the schema has {string.Join(", ", actual.Order())}.");
            _checked = true;
        }

        await connection.ExecuteAsync(string.Join(' ', Roots.Select(t => $"DELETE FROM {t};")));
    }
}
