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

    /// <summary>
    /// Signing keys that were published with Kanso (compose.yaml and scripts/run-local.sh up to v1.0):
    /// whoever read the repository could sign a token for any user id with them.
    /// </summary>
    private static readonly string[] PublishedKeys = ["development-only-signing-key-change-me-0123456789"];

    /// <summary>The failure when <paramref name="signingKey"/> is a published key outside Development, else null.</summary>
    public static string? RefusePublishedKey(string? signingKey, IHostEnvironment environment) =>
        !environment.IsDevelopment() && signingKey is not null && PublishedKeys.Contains(signingKey.Trim(), StringComparer.Ordinal)
            ? $"Jwt__SigningKey is a key published in the Kanso repository, so anyone could sign tokens; outside the Development environment (this is '{environment.EnvironmentName}') set a secret of your own, e.g. Jwt__SigningKey=$(openssl rand -base64 48)."
            : null;
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
