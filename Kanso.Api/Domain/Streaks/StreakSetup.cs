using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Streaks;

internal static class StreakSetup
{
    /// <summary>
    /// The streak queue and the worker that drains it. Register it after the database (its start-up sweep needs the migrated
    /// schema, and hosted services start in registration order).
    /// </summary>
    public static IServiceCollection AddKansoStreaks(this IServiceCollection services)
    {
        services.AddOptions<StreakOptions>().BindConfiguration(StreakOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreakOptions>, StreakOptionsValidator>();
        services.AddSingleton<StreakQueue>();
        services.AddSingleton<StreakRecalculator>();
        services.AddHostedService<StreakWorker>();
        return services;
    }
}
