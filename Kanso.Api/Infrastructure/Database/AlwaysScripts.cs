using Npgsql;

namespace Kanso.Api.Infrastructure.Database;

/// <summary>
/// The scripts of <c>migrations/always/</c>, run after the numbered migrations at every start-up,
/// each in its own transaction, on the connection that holds the migration lock. They must be
/// idempotent. <c>distribute.sql</c> distributes the tables by user when the database is a Citus
/// coordinator with workers, so a schema migrated on plain PostgreSQL is distributed the first
/// time Kanso starts on Citus, and an operator never runs <c>create_distributed_table</c> by hand.
/// </summary>
internal static class AlwaysScripts
{
    public static async Task RunAsync(NpgsqlConnection connection, string folder, ILogger logger, CancellationToken ct)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var path in Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal))
        {
            var sql = await File.ReadAllTextAsync(path, ct);
            void OnNotice(object? sender, NpgsqlNoticeEventArgs e) => logger.LogInformation("{Script}: {Notice}", Path.GetFileName(path), e.Notice.MessageText);
            connection.Notice += OnNotice;
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(ct);
                await using (var command = new NpgsqlCommand(sql, connection, transaction))
                {
                    await command.ExecuteNonQueryAsync(ct);
                }

                await transaction.CommitAsync(ct);
            }
            catch (PostgresException ex)
            {
                throw new InvalidOperationException($"Start-up script {Path.GetFileName(path)} failed: {ex.MessageText}", ex);
            }
            finally
            {
                connection.Notice -= OnNotice;
            }
        }
    }
}
