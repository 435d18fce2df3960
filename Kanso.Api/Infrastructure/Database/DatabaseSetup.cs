using Dapper;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;

namespace Kanso.Api.Infrastructure.Database;

internal static class DatabaseSetup
{
    public static IServiceCollection AddKansoDatabase(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        DapperConfiguration.ConfigureOnce();

        services.AddSingleton(sp => BuildDataSource(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.Postgres!, sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<MigrationService>();
        return services;
    }

    /// <summary>
    /// Tuned for throughput on a small machine (see the "Ship it" issue): statements are prepared
    /// automatically, pooled connections skip DISCARD ALL, and the pool is sized to the cores,
    /// because on few cores more concurrent connections means less throughput. Explicit settings
    /// in the connection string win.
    /// </summary>
    public static NpgsqlDataSource BuildDataSource(string connectionString, ILoggerFactory? loggerFactory = null)
    {
        // NpgsqlConnectionStringBuilder.ContainsKey is true for every keyword it knows, set or not;
        // the plain builder lists only the keys the string holds (compared without spaces, as Npgsql
        // accepts both "Max Auto Prepare" and "MaxAutoPrepare").
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(Compact).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("MaxAutoPrepare"))
        {
            csb.MaxAutoPrepare = 64;
            csb.AutoPrepareMinUsages = 2;
        }

        if (!given.Contains("NoResetOnClose"))
        {
            csb.NoResetOnClose = true;
        }

        if (!given.Contains("MaximumPoolSize") && !given.Contains("MaxPoolSize"))
        {
            csb.MaxPoolSize = Math.Max(8, Environment.ProcessorCount * 4);
        }

        if (!given.Contains("Timeout"))
        {
            csb.Timeout = 5;
        }

        var builder = new NpgsqlDataSourceBuilder(csb.ConnectionString);
        builder.UseNodaTime();
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }

        return builder.Build();

        static string Compact(string keyword) => keyword.Replace(" ", "", StringComparison.Ordinal);
    }
}

/// <summary>Dapper knows nothing of NodaTime; Npgsql's plugin reads and writes these types itself, so pass them through.</summary>
internal static class DapperConfiguration
{
    private static int _configured;

    public static void ConfigureOnce()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1)
        {
            return;
        }

        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new PassThroughHandler<Instant>());
        SqlMapper.AddTypeHandler(new PassThroughHandler<LocalDate>());
        SqlMapper.AddTypeHandler(new PassThroughHandler<LocalTime>());
        SqlMapper.AddTypeHandler(new PassThroughHandler<LocalDateTime>());
    }

    private sealed class PassThroughHandler<T> : SqlMapper.TypeHandler<T>
    {
        public override void SetValue(System.Data.IDbDataParameter parameter, T? value) => parameter.Value = value;

        public override T Parse(object value) => (T)value;
    }
}
