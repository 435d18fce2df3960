using DbUp;
using DbUp.Engine.Output;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Kanso.Api.Infrastructure.Database;

/// <summary>
/// Applies migrations/ at start-up. DbUp keeps the journal; a session-level advisory lock makes
/// instances that start together take turns, so the schema is migrated exactly once. A database
/// that is still starting is waited for (<see cref="StartupWait"/>); one that stays unreachable or
/// refuses the credentials stops start-up with one line naming the setting.
/// </summary>
internal sealed class MigrationService(NpgsqlDataSource dataSource, IOptions<DatabaseOptions> options, ILogger<MigrationService> logger) : IHostedService
{
    public static readonly TimeSpan StartupWait = TimeSpan.FromSeconds(20);

    private const long MigrationLockKey = 0x4B616E736F;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenWhenReachableAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", MigrationLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var folder = Path.Combine(AppContext.BaseDirectory, "migrations");
            var upgrader = DeployChanges.To
                // The configured string: the data source's own omits the password.
                .PostgresqlDatabase(options.Value.Postgres)
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

            await AlwaysScripts.RunAsync(connection, Path.Combine(folder, "always"), logger, cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", MigrationLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<NpgsqlConnection> OpenWhenReachableAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + StartupWait;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await dataSource.OpenConnectionAsync(ct);
            }
            catch (Exception ex) when (KansoExceptionHandler.IsDatabaseUnavailable(ex) && DateTime.UtcNow < deadline)
            {
                logger.LogWarning("Waiting for the database: {Message}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), ct);
            }
            catch (Exception ex) when (KansoExceptionHandler.IsDatabaseUnavailable(ex))
            {
                throw new StartupException($"the database is unreachable ({ex.Message}); check ConnectionStrings__Postgres and that PostgreSQL is running.", ex);
            }
            catch (PostgresException ex) when (ex.SqlState.StartsWith("28", StringComparison.Ordinal) || ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
            {
                throw new StartupException($"the database refused the connection ({ex.MessageText}); check ConnectionStrings__Postgres.", ex);
            }
        }
    }

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
