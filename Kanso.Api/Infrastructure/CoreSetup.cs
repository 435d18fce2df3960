using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Redis;
using Kanso.Api.Infrastructure.Time;
using NodaTime;

namespace Kanso.Api.Infrastructure;

internal static class CoreSetup
{
    public static IServiceCollection AddKansoCore(this IServiceCollection services)
    {
        services.AddSingleton<IClock>(SystemClock.Instance);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Passwords>();
        services.AddSingleton<Background.StreakQueue>();
        services.AddScoped<TimezoneFilter>();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.SectionName);
        services.AddSingleton<RedisConnection>();
        return services;
    }
}
