using System.Diagnostics.Metrics;

namespace Kanso.Api.Infrastructure.Observability;

/// <summary>
/// Kanso's metrics about the generic parts of the service: rate limiting and token revocation.
/// Scraped as <c>kanso_ratelimit_decisions_total{bucket,store,decision}</c> and
/// <c>kanso_revocation_evictions_total</c>.
/// </summary>
internal sealed class ServiceMetrics
{
    private readonly Counter<long> _rateLimitDecisions;
    private readonly Counter<long> _revocationEvictions;

    public ServiceMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(KansoDiagnostics.Name);
        _rateLimitDecisions = meter.CreateCounter<long>(
            "kanso.ratelimit.decisions",
            description: "Token-bucket decisions by bucket (user, ip, login), store that decided (redis, or local: the in-process fallback) and decision (allowed, refused).");
        _revocationEvictions = meter.CreateCounter<long>(
            "kanso.revocation.evictions",
            description: "Accounts evicted from this instance's user cache on a deletion announced by another instance over Redis.");
        _revocationEvictions.Add(0);
    }

    public void RateLimitDecision(string bucket, bool redis, bool allowed) =>
        _rateLimitDecisions.Add(1, new("bucket", bucket), new("store", redis ? "redis" : "local"), new("decision", allowed ? "allowed" : "refused"));

    public void RevocationEviction() => _revocationEvictions.Add(1);
}
