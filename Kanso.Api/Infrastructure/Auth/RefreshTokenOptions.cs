using Microsoft.Extensions.Options;

namespace Kanso.Api.Infrastructure.Auth;

/// <summary>Refresh-token settings, read from the <c>Jwt</c> section beside the access token's.</summary>
internal sealed class RefreshTokenOptions
{
    public const string SectionName = JwtOptions.SectionName;

    /// <summary>How long a refresh token lasts from its issue; every refresh issues a new one (sliding).</summary>
    public TimeSpan RefreshLifetime { get; set; } = TimeSpan.FromDays(60);

    /// <summary>How long after a rotation the spent token still answers the same new pair (a lost answer's retry).</summary>
    public TimeSpan RefreshGrace { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class RefreshTokenOptionsValidator : IValidateOptions<RefreshTokenOptions>
{
    public ValidateOptionsResult Validate(string? name, RefreshTokenOptions o)
    {
        var failures = new List<string>();
        if (o.RefreshLifetime < TimeSpan.FromMinutes(1) || o.RefreshLifetime > TimeSpan.FromDays(365))
        {
            failures.Add("Jwt__RefreshLifetime must be between 00:01:00 and 365.00:00:00.");
        }

        if (o.RefreshGrace < TimeSpan.Zero || o.RefreshGrace > TimeSpan.FromMinutes(10))
        {
            failures.Add("Jwt__RefreshGrace must be between 00:00:00 and 00:10:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
