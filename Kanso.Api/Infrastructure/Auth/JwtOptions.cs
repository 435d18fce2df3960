using System.Text;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Infrastructure.Auth;

internal sealed class JwtOptions
{
    public const string SectionName = "Jwt";

    public string Algorithm { get; set; } = "HS256";

    public string? SigningKey { get; set; }

    public string? PrivateKeyPem { get; set; }

    public string? PublicKeyPem { get; set; }

    public string Issuer { get; set; } = "kanso";

    public string Audience { get; set; } = "kanso-app";

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);
}

internal sealed class JwtOptionsValidator : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions o)
    {
        var failures = new List<string>();
        switch (o.Algorithm)
        {
            case "HS256":
                if (string.IsNullOrEmpty(o.SigningKey) || Encoding.UTF8.GetByteCount(o.SigningKey) < 32)
                {
                    failures.Add("Jwt__SigningKey must be at least 32 bytes for HS256.");
                }

                break;
            case "RS256":
                if (string.IsNullOrWhiteSpace(o.PublicKeyPem) && string.IsNullOrWhiteSpace(o.PrivateKeyPem))
                {
                    failures.Add("Jwt__PublicKeyPem (to verify) or Jwt__PrivateKeyPem (to sign) is required for RS256.");
                }

                break;
            default:
                failures.Add($"Jwt__Algorithm must be HS256 or RS256, not '{o.Algorithm}'.");
                break;
        }

        if (string.IsNullOrWhiteSpace(o.Issuer))
        {
            failures.Add("Jwt__Issuer must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(o.Audience))
        {
            failures.Add("Jwt__Audience must not be empty.");
        }

        if (o.Lifetime <= TimeSpan.Zero || o.Lifetime > TimeSpan.FromDays(30))
        {
            failures.Add("Jwt__Lifetime must be between 00:00:01 and 30.00:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
