using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Sync;

internal static class SyncSetup
{
    /// <summary>Sync options and the periodic purge. Register after the database (the purge needs the migrated schema).</summary>
    public static IServiceCollection AddKansoSync(this IServiceCollection services)
    {
        services.AddOptions<SyncOptions>().BindConfiguration(SyncOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SyncOptions>, SyncOptionsValidator>();
        services.AddSingleton<SyncPurger>();
        services.AddHostedService<SyncPurgeWorker>();

        // Live sync: the hints of committed changes, received on one listening connection per instance.
        services.AddOptions<LiveOptions>().BindConfiguration(LiveOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LiveOptions>, LiveOptionsValidator>();
        services.AddSingleton<ChangeHintHub>();
        services.AddSingleton<ChangeHintListener>();
        services.AddHostedService(sp => sp.GetRequiredService<ChangeHintListener>());
        return services;
    }
}
