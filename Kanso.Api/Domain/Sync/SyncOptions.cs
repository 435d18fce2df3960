using Microsoft.Extensions.Options;

namespace Kanso.Api.Domain.Sync;

/// <summary>
/// How long sync keeps what clients may still ask for, bound from <c>Sync</c>
/// (<c>Sync__TombstoneRetention</c>, <c>Sync__MutationRetention</c>, <c>Sync__PurgeInterval</c>, <c>Sync__PurgeBatchSize</c>).
/// </summary>
internal sealed class SyncOptions
{
    public const string SectionName = "Sync";

    /// <summary>Tombstones younger than this are kept; a pull cursor from before a purged one gets 410.</summary>
    public TimeSpan TombstoneRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Processed push mutations are remembered this long (a retry within it is answered, not re-applied),
    /// and never less than <see cref="TombstoneRetention"/>: see <see cref="MutationMemory"/>.
    /// </summary>
    public TimeSpan MutationRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// How long mutations are actually remembered: at least as long as tombstones, so a retry within the
    /// tombstone retention of a push is always recognised and never re-creates a record deleted since.
    /// </summary>
    public TimeSpan MutationMemory => MutationRetention > TombstoneRetention ? MutationRetention : TombstoneRetention;

    /// <summary>How often the purge runs.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows one purge transaction removes at most, so it never holds a user's lock for long.</summary>
    public int PurgeBatchSize { get; set; } = 500;
}

internal sealed class SyncOptionsValidator : IValidateOptions<SyncOptions>
{
    public ValidateOptionsResult Validate(string? name, SyncOptions options)
    {
        var failures = new List<string>();
        if (options.TombstoneRetention < TimeSpan.FromDays(1) || options.TombstoneRetention > TimeSpan.FromDays(3650))
        {
            failures.Add("Sync__TombstoneRetention must be between 1.00:00:00 and 3650.00:00:00 (default 30.00:00:00).");
        }

        if (options.MutationRetention < TimeSpan.FromDays(1) || options.MutationRetention > TimeSpan.FromDays(3650))
        {
            failures.Add("Sync__MutationRetention must be between 1.00:00:00 and 3650.00:00:00 (default 30.00:00:00; never less than Sync__TombstoneRetention).");
        }

        if (options.PurgeInterval < TimeSpan.FromSeconds(1) || options.PurgeInterval > TimeSpan.FromDays(1))
        {
            failures.Add("Sync__PurgeInterval must be between 00:00:01 and 1.00:00:00 (default 01:00:00).");
        }

        if (options.PurgeBatchSize is < 1 or > 10_000)
        {
            failures.Add("Sync__PurgeBatchSize must be between 1 and 10000 (default 500).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
