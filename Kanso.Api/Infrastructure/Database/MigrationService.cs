using DbUp;
using DbUp.Engine.Output;
using Npgsql;

namespace Kanso.Api.Infrastructure.Database;

/// <summary>
/// Applies migrations/ at start-up. DbUp keeps the journal; a session-level advisory lock makes
/// instances that start together take turns, so the schema is migrated exactly once.
/// </summary>
internal sealed class MigrationService(NpgsqlDataSource dataSource, ILogger<MigrationService> logger) : IHostedService
{
    private const long MigrationLockKey = 0x4B616E736F;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", MigrationLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var folder = Path.Combine(AppContext.BaseDirectory, "migrations");
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(dataSource.ConnectionString)
                .WithScriptsFromFileSystem(folder)
                .WithTransactionPerScript()
                .LogTo(new DbUpLog(logger))
                .Build();

            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
            }

            foreach (var script in result.Scripts)
            {
                logger.LogInformation("Applied migration {Script}", script.Name);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", MigrationLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed class DbUpLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => logger.LogTrace(format, args);

        public void LogDebug(string format, params object[] args) => logger.LogDebug(format, args);

        public void LogInformation(string format, params object[] args) => logger.LogDebug(format, args);

        public void LogWarning(string format, params object[] args) => logger.LogWarning(format, args);

        public void LogError(string format, params object[] args) => logger.LogError(format, args);

        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, format, args);
    }
}
