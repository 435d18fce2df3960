using System.ComponentModel.DataAnnotations;

namespace Kanso.Api.Infrastructure.Observability;

/// <summary>The Prometheus scrape endpoint: on by default at /metrics on the API's own port.</summary>
internal sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    public bool Enabled { get; set; } = true;

    [RegularExpression("^/[A-Za-z0-9/_.-]*$", ErrorMessage = "Metrics:Path must be a path starting with '/'.")]
    public string Path { get; set; } = "/metrics";

    /// <summary>
    /// When set, the scrape endpoint answers only on connections to this port (which the server must
    /// also listen on, e.g. ASPNETCORE_HTTP_PORTS=8080;9464), so it need not be exposed with the API.
    /// </summary>
    [Range(1, 65535, ErrorMessage = "Metrics:Port must be a TCP port (1-65535).")]
    public int? Port { get; set; }
}
