using Dapper;

namespace Kanso.Api.Infrastructure.Database;

internal static class GridReaderExtensions
{
    /// <summary>
    /// Reads whatever results of a multi-statement command are left. Disposing a
    /// <see cref="SqlMapper.GridReader"/> before its last result makes Dapper cancel the command, and
    /// Npgsql carries that out as a PostgreSQL cancel request: a new connection and a forked server
    /// process each time, and a cancel that arrives late can hit the next statement on the connection.
    /// </summary>
    public static async Task ReadRestAsync(this SqlMapper.GridReader results)
    {
        while (!results.IsConsumed)
        {
            await results.ReadAsync();
        }
    }
}
