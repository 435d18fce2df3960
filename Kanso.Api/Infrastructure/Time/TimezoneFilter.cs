using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using NodaTime;

namespace Kanso.Api.Infrastructure.Time;

internal static class TimeSetup
{
    /// <summary>The clocks (NodaTime's for Kanso's code, TimeProvider for the framework's) and the X-Timezone filter.</summary>
    public static IServiceCollection AddKansoTime(this IServiceCollection services)
    {
        services.AddSingleton<IClock>(SystemClock.Instance);
        services.AddSingleton(TimeProvider.System);
        services.AddScoped<TimezoneFilter>();
        return services;
    }
}

/// <summary>
/// Checks <c>X-Timezone</c> against TZDB (400 when unknown; empty counts as absent) and remembers a
/// valid name as the caller's zone when it differs from the stored one.
/// </summary>
internal sealed class TimezoneFilter(KnownUsers users) : IEndpointFilter
{
    public const string HeaderName = "X-Timezone";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers[HeaderName].ToString().Trim();
        DateTimeZone? named = null;
        if (header.Length > 0)
        {
            named = header.Length <= 64 ? DateTimeZoneProviders.Tzdb.GetZoneOrNull(header) : null;
            if (named is null)
            {
                return Problems.BadRequest("invalid timezone", $"X-Timezone must be an IANA time zone name such as Europe/Rome; '{Truncate(header)}' is not one.");
            }
        }

        var user = http.Features.Get<KnownUser>();
        if (named is not null && user is not null)
        {
            await users.RememberZoneAsync(user, named.Id, http.RequestAborted);
        }

        var zone = named
            ?? (user is null ? null : DateTimeZoneProviders.Tzdb.GetZoneOrNull(user.Timezone))
            ?? DateTimeZone.Utc;
        http.Features.Set(new RequestZone(zone));
        return await next(context);
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}

/// <summary>The zone this request counts days in: the header's, else the user's stored one, else UTC.</summary>
internal sealed record RequestZone(DateTimeZone Zone);

internal static class RequestZoneExtensions
{
    public static DateTimeZone GetZone(this HttpContext http) => http.Features.Get<RequestZone>()?.Zone ?? DateTimeZone.Utc;
}
