using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Database;
using Kanso.Api.Infrastructure.RateLimiting;
using Kanso.Api.Infrastructure.Sync;

namespace Kanso.Api.Infrastructure;

/// <summary>
/// Runs the options validators over the raw configuration before the host is built, so a missing or
/// bad setting stops start-up with one line naming it instead of a host-failure stack trace.
/// ValidateOnStart stays registered as the second line of defence.
/// </summary>
internal static class StartupCheck
{
    public static IReadOnlyList<string> Failures(IConfiguration configuration)
    {
        var database = configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var jwt = new JwtOptions();
        try
        {
            configuration.GetSection(JwtOptions.SectionName).Bind(jwt);
        }
        catch (InvalidOperationException ex)
        {
            return [$"A Jwt__* setting has the wrong format: {ex.InnerException?.Message ?? ex.Message}"];
        }

        var sync = new SyncOptions();
        try
        {
            configuration.GetSection(SyncOptions.SectionName).Bind(sync);
        }
        catch (InvalidOperationException ex)
        {
            return [$"A Sync__* setting has the wrong format (durations are d.hh:mm:ss): {ex.InnerException?.Message ?? ex.Message}"];
        }

        var rateLimit = new RateLimitOptions();
        rateLimit.ReadFrom(configuration);
        return [
            .. new DatabaseOptionsValidator().Validate(null, database).Failures ?? [],
            .. new JwtOptionsValidator().Validate(null, jwt).Failures ?? [],
            .. new RateLimitOptionsValidator().Validate(null, rateLimit).Failures ?? [],
            .. new SyncOptionsValidator().Validate(null, sync).Failures ?? [],
        ];
    }
}
