using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Kanso.Api.Infrastructure.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Kanso.Api.Infrastructure.RateLimiting;

/// <summary>
/// The rate-limiting middleware's global limiter. Endpoints marked by
/// <see cref="RateLimitSetup.RequirePerUserRateLimit{TBuilder}"/> draw one token per request: from the
/// caller's user bucket when authenticated on a protected route, else from the client IP's bucket;
/// login also draws from the email's bucket. Other endpoints (health, docs) are not limited.
/// </summary>
internal sealed class KansoRateLimiter(TokenBuckets buckets, IOptions<RateLimitOptions> options, IOptions<HttpJsonOptions> json) : PartitionedRateLimiter<HttpContext>
{
    public const string KeyPrefix = "kanso:ratelimit:";

    private readonly BucketPolicy _user = options.Value.UserPolicy;
    private readonly BucketPolicy _ip = options.Value.IpPolicy;
    private readonly BucketPolicy _login = options.Value.LoginPolicy;

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    /// <summary>
    /// The middleware asks synchronously first. A limited endpoint answers "not yet", which makes the
    /// middleware call <see cref="AcquireAsyncCore"/>, where the buckets are asked without blocking a thread.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) =>
        IsLimited(resource) ? Lease.Undecided : Lease.Acquired;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        if (!IsLimited(resource))
        {
            return Lease.Acquired;
        }

        var results = new List<BucketResult>(2);
        foreach (var (policy, key) in await BucketsForAsync(resource, cancellationToken))
        {
            var decision = await buckets.TakeAsync(policy, key, cancellationToken);
            results.Add(new BucketResult(policy, decision));
            if (!decision.Allowed)
            {
                break;
            }
        }

        RateLimitHeaders.AddOnStarting(resource, results);
        var refused = results.Find(r => !r.Decision.Allowed);
        return refused is null ? Lease.Acquired : Lease.Refused(TimeSpan.FromSeconds(refused.Decision.RetryAfterSeconds));
    }

    private static bool IsLimited(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<PerUserRateLimit>() is not null;

    private async Task<List<(BucketPolicy Policy, string Key)>> BucketsForAsync(HttpContext http, CancellationToken ct)
    {
        var metadata = http.GetEndpoint()!.Metadata;
        var anonymousRoute = metadata.GetMetadata<IAllowAnonymous>() is not null;
        var subject = http.User.Identity?.IsAuthenticated == true ? http.User.FindFirst(JwtRegisteredClaimNames.Sub)?.Value : null;
        var list = new List<(BucketPolicy, string)>(2)
        {
            !anonymousRoute && subject is not null
                ? (_user, Key(_user, subject))
                : (_ip, Key(_ip, ClientAddress(http))),
        };

        // A signed-in caller proving a password (PUT /auth/password) draws from their email's login bucket.
        if (metadata.GetMetadata<PerEmailRateLimit>() is not null
            && (await ReadEmailAsync(http, ct) ?? EmailClaim(http, anonymousRoute)) is { } email)
        {
            list.Add((_login, Key(_login, Hash(email))));
        }

        if (metadata.GetMetadata<PerRefreshSessionRateLimit>() is not null
            && RefreshTokens.PeekSessionId(await ReadFieldAsync<RefreshTokenField>(http, ct) is { } field ? field.RefreshToken : null) is { } sessionId)
        {
            list.Add((_login, Key(_login, $"session:{sessionId:N}")));
        }

        return list;
    }

    private static string Key(BucketPolicy policy, string partition) => $"{KeyPrefix}{policy.Name}:{partition}";

    /// <summary>
    /// The peer address, which UseForwardedHeaders has replaced with the client's only when the peer is
    /// a trusted proxy. IPv6 callers are grouped by /64, the block one subscriber usually holds.
    /// </summary>
    public static string ClientAddress(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return new IPNetwork(address, 64).BaseAddress + "/64";
        }

        return address.ToString();
    }

    /// <summary>Emails in keys are hashed: Redis needs no personal data, and keys stay short whatever was sent.</summary>
    private static string Hash(string email) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email)))[..32];

    /// <summary>
    /// The login's email, read as the endpoint will bind it (same serializer options), from a buffered
    /// body that is rewound for the endpoint. The body is at most the server's request body limit.
    /// A body that does not parse has no email; the endpoint answers it with a 400 anyway.
    /// </summary>
    private async Task<string?> ReadEmailAsync(HttpContext http, CancellationToken ct)
    {
        var request = http.Request;
        if (!request.HasJsonContentType())
        {
            return null;
        }

        request.EnableBuffering();
        try
        {
            var body = await JsonSerializer.DeserializeAsync<EmailField>(request.Body, json.Value.SerializerOptions, ct);
            return string.IsNullOrWhiteSpace(body?.Email) ? null : EmailAddress.Normalize(body.Email);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            return null;
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    private sealed record EmailField(string? Email);

    private sealed record RefreshTokenField(string? RefreshToken);

    private static string? EmailClaim(HttpContext http, bool anonymousRoute) =>
        !anonymousRoute && http.User.Identity?.IsAuthenticated == true && http.User.FindFirst(JwtRegisteredClaimNames.Email)?.Value is { Length: > 0 } email
            ? EmailAddress.Normalize(email)
            : null;

    /// <summary>A field of a JSON body, read like <see cref="ReadEmailAsync"/> from a rewound buffered body.</summary>
    private async Task<T?> ReadFieldAsync<T>(HttpContext http, CancellationToken ct)
        where T : class
    {
        var request = http.Request;
        if (!request.HasJsonContentType())
        {
            return null;
        }

        request.EnableBuffering();
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, json.Value.SerializerOptions, ct);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            return null;
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true, null);

        public static readonly Lease Undecided = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public static Lease Refused(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter is { } value && metadataName == MetadataName.RetryAfter.Name ? value : null;
            return metadata is not null;
        }
    }
}

internal sealed record BucketResult(BucketPolicy Policy, BucketDecision Decision);

/// <summary>Marks endpoints limited per user (per client IP when anonymous).</summary>
internal sealed class PerUserRateLimit
{
    public static readonly PerUserRateLimit Instance = new();
}

/// <summary>Marks the login endpoint, limited per email as well.</summary>
internal sealed class PerEmailRateLimit
{
    public static readonly PerEmailRateLimit Instance = new();
}

/// <summary>Marks the refresh endpoint, limited per session (named in the refresh token) as well, with the login bucket's size.</summary>
internal sealed class PerRefreshSessionRateLimit
{
    public static readonly PerRefreshSessionRateLimit Instance = new();
}

/// <summary>
/// IETF draft-ietf-httpapi-ratelimit-headers (-09/-10) fields, one list member per bucket the request
/// drew from, e.g. <c>RateLimit-Policy: "user";q=120;w=60</c> and <c>RateLimit: "user";r=119;t=1</c>
/// (<c>t</c> = seconds until the bucket is full), plus the earlier <c>X-RateLimit-*</c> for the bucket
/// that binds (the one that refused, else the one with the fewest tokens left).
/// </summary>
internal static class RateLimitHeaders
{
    public static void AddOnStarting(HttpContext http, IReadOnlyList<BucketResult> results)
    {
        if (results.Count == 0)
        {
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        var policy = string.Join(", ", results.Select(r => string.Create(inv, $"\"{r.Policy.Name}\";q={r.Policy.Capacity};w={r.Policy.WindowSeconds}")));
        var current = string.Join(", ", results.Select(r => string.Create(inv, $"\"{r.Policy.Name}\";r={r.Decision.Remaining};t={r.Decision.UntilFullSeconds}")));
        var binding = results.FirstOrDefault(r => !r.Decision.Allowed) ?? results.MinBy(r => r.Decision.Remaining)!;

        // Set when the response starts, so answers built after a reset of the response (problem
        // details from the exception handler) carry them too.
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            headers["RateLimit-Policy"] = policy;
            headers["RateLimit"] = current;
            headers["X-RateLimit-Limit"] = binding.Policy.Capacity.ToString(inv);
            headers["X-RateLimit-Remaining"] = binding.Decision.Remaining.ToString(inv);
            headers["X-RateLimit-Reset"] = binding.Decision.UntilFullSeconds.ToString(inv);
            return Task.CompletedTask;
        });
    }
}
