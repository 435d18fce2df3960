using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Sync;

/// <summary>
/// Live sync (event streams and long polls), bound from <c>Live</c>
/// (<c>Live__HeartbeatInterval</c>, <c>Live__ReauthBefore</c>, <c>Live__MaxStreamsPerUser</c>).
/// </summary>
internal sealed class LiveOptions
{
    public const string SectionName = "Live";

    /// <summary>How often an idle stream sends a <c>: ping</c> comment, so proxies keep it open.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long before the token's <c>exp</c> a stream sends <c>reauth</c> and ends.</summary>
    public TimeSpan ReauthBefore { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Open streams one user may hold on one instance.</summary>
    public int MaxStreamsPerUser { get; set; } = 10;

    /// <summary>At most one <c>change</c> event per stream in this time (not configurable: the contract's number).</summary>
    public static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest a pull may be held (<c>wait</c>, in seconds).</summary>
    public const int MaxWaitSeconds = 30;
}

internal sealed class LiveOptionsValidator : IValidateOptions<LiveOptions>
{
    public ValidateOptionsResult Validate(string? name, LiveOptions options)
    {
        var failures = new List<string>();
        if (options.HeartbeatInterval < TimeSpan.FromSeconds(1) || options.HeartbeatInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add("Live__HeartbeatInterval must be between 00:00:01 and 00:10:00 (default 00:00:15).");
        }

        if (options.ReauthBefore < TimeSpan.Zero || options.ReauthBefore > TimeSpan.FromDays(1))
        {
            failures.Add("Live__ReauthBefore must be between 00:00:00 and 1.00:00:00 (default 00:00:30).");
        }

        if (options.MaxStreamsPerUser is < 1 or > 1000)
        {
            failures.Add("Live__MaxStreamsPerUser must be between 1 and 1000 (default 10).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
