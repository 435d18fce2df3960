using Kanso.Api.Domain.Streaks;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Database;
using Kanso.Api.Infrastructure.Observability;
using Kanso.Api.Infrastructure.RateLimiting;
using Microsoft.Extensions.Options;

namespace Kanso.Api;

/// <summary>
/// Part of the composition root, beside Program.cs: it knows every settings section, Kanso's own too.
/// Runs the options validators over the raw configuration before the host is built, so a missing or
/// bad setting stops start-up with one line naming it instead of a host-failure stack trace.
/// ValidateOnStart stays registered as the second line of defence.
/// </summary>
internal static class StartupCheck
{
    public static IReadOnlyList<string> Failures(IConfiguration configuration, IHostEnvironment? environment = null)
    {
        var rateLimit = new RateLimitOptions();
        rateLimit.ReadFrom(configuration);
        var failures = new List<string>();
        Check(configuration, DatabaseOptions.SectionName, new DatabaseOptionsValidator(), failures);
        Check(configuration, JwtOptions.SectionName, new JwtOptionsValidator(), failures);
        Check(configuration, RefreshTokenOptions.SectionName, new RefreshTokenOptionsValidator(), failures);
        Check(configuration, StreakOptions.SectionName, new StreakOptionsValidator(), failures);
        Check(configuration, SyncOptions.SectionName, new SyncOptionsValidator(), failures);
        Check(configuration, MetricsOptions.SectionName, new MetricsOptionsValidator(), failures);
        failures.AddRange(new RateLimitOptionsValidator().Validate(null, rateLimit).Failures ?? []);
        if (environment is not null && JwtOptions.RefusePublishedKey(configuration[$"{JwtOptions.SectionName}:SigningKey"], environment) is { } published)
        {
            failures.Add(published);
        }

        return failures;
    }

    private static void Check<T>(IConfiguration configuration, string section, IValidateOptions<T> validator, List<string> failures)
        where T : class, new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the property in its inner message (e.g. a duration that is not d.hh:mm:ss).
            failures.Add($"A {section}__* setting has the wrong format: {ex.InnerException?.Message ?? ex.Message}");
            return;
        }

        failures.AddRange(validator.Validate(null, options).Failures ?? []);
    }
}
