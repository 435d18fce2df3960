using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Infrastructure.RateLimiting;

/// <summary>Token buckets per policy (<c>RateLimit__User__Capacity</c>, ...) and the proxies whose <c>X-Forwarded-For</c> is believed.</summary>
internal sealed class RateLimitOptions
{
    public const string SectionName = "RateLimit";

    public const int MaxValue = 10_000_000;

    /// <summary>Per authenticated user, on every authenticated route.</summary>
    public BucketOptions User { get; set; } = new() { Capacity = 120, PerMinute = 120 };

    /// <summary>Per client IP, on anonymous routes (<c>auth/*</c>) and on calls without a valid token.</summary>
    public BucketOptions Ip { get; set; } = new() { Capacity = 30, PerMinute = 30 };

    /// <summary>Per email, on <c>auth/login</c>, against password guessing from many addresses.</summary>
    public BucketOptions Login { get; set; } = new() { Capacity = 5, PerMinute = 5 };

    /// <summary>IP addresses or CIDR networks; empty means <c>X-Forwarded-For</c> is never believed.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    public BucketPolicy UserPolicy => new("user", User.Capacity, User.PerMinute);

    public BucketPolicy IpPolicy => new("ip", Ip.Capacity, Ip.PerMinute);

    public BucketPolicy LoginPolicy => new("login", Login.Capacity, Login.PerMinute);

    /// <summary>
    /// The list as indexed children (<c>RateLimit__TrustedProxies__0</c>) and/or one comma- or
    /// space-separated value (<c>RateLimit__TrustedProxies=10.0.0.1,10.0.0.2</c>), the form an
    /// environment variable naturally takes.
    /// </summary>
    public static List<string> ReadTrustedProxies(IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName).GetSection(nameof(TrustedProxies));
        return [.. new[] { section.Value }.Concat(section.GetChildren().Select(c => c.Value))
            .SelectMany(v => (v ?? "").Split([',', ';', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>Values that were not whole numbers, each naming its key; reported by the validator.</summary>
    public List<string> FormatFailures { get; } = [];

    /// <summary>
    /// Reads the section without throwing (unlike the binder): a value that is not a whole number
    /// becomes a failure naming its key, which the validator reports with the others.
    /// </summary>
    public void ReadFrom(IConfiguration configuration)
    {
        TrustedProxies = ReadTrustedProxies(configuration);
        foreach (var (name, bucket) in Buckets())
        {
            bucket.Capacity = ReadInt(configuration, name, nameof(BucketOptions.Capacity), bucket.Capacity, FormatFailures);
            bucket.PerMinute = ReadInt(configuration, name, nameof(BucketOptions.PerMinute), bucket.PerMinute, FormatFailures);
        }
    }

    public IEnumerable<(string Name, BucketOptions Bucket)> Buckets() => [(nameof(User), User), (nameof(Ip), Ip), (nameof(Login), Login)];

    public static string Key(string bucket, string setting) => $"{SectionName}__{bucket}__{setting}";

    private static int ReadInt(IConfiguration configuration, string bucket, string setting, int fallback, List<string> failures)
    {
        var raw = configuration[$"{SectionName}:{bucket}:{setting}"];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return fallback;
        }

        if (int.TryParse(raw.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        failures.Add($"{Key(bucket, setting)} must be a whole number from 1 to {MaxValue}, not '{raw}'.");
        return fallback;
    }
}

internal sealed class BucketOptions
{
    /// <summary>Most requests allowed in a burst.</summary>
    public int Capacity { get; set; }

    /// <summary>Tokens added per minute, continuously.</summary>
    public int PerMinute { get; set; }
}

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>(options.FormatFailures);
        foreach (var (bucketName, bucket) in options.Buckets())
        {
            Check(bucket.Capacity, RateLimitOptions.Key(bucketName, nameof(BucketOptions.Capacity)), failures);
            Check(bucket.PerMinute, RateLimitOptions.Key(bucketName, nameof(BucketOptions.PerMinute)), failures);
        }

        foreach (var proxy in options.TrustedProxies)
        {
            if (!TrustedProxy.TryParse(proxy, out _, out _))
            {
                failures.Add($"RateLimit__TrustedProxies must list IP addresses or CIDR networks (e.g. 10.0.0.5,10.1.0.0/16), not '{proxy}'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(int value, string key, List<string> failures)
    {
        if (value is < 1 or > RateLimitOptions.MaxValue)
        {
            failures.Add($"{key} must be a whole number from 1 to {RateLimitOptions.MaxValue}, not {value}.");
        }
    }
}

internal static class TrustedProxy
{
    /// <summary>An address (<c>10.0.0.5</c>) or a network (<c>10.0.0.0/8</c>).</summary>
    public static bool TryParse(string text, out IPAddress? address, out IPNetwork? network)
    {
        address = null;
        network = null;
        if (text.Contains('/', StringComparison.Ordinal))
        {
            if (IPNetwork.TryParse(text, out var parsed))
            {
                network = parsed;
                return true;
            }

            return false;
        }

        return IPAddress.TryParse(text, out address);
    }
}
