using Microsoft.Extensions.Options;

namespace Kanso.Api.Infrastructure.Observability;

/// <summary>The Prometheus scrape endpoint: on by default at /metrics on the API's own port.</summary>
internal sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    public bool Enabled { get; set; } = true;

    public string Path { get; set; } = "/metrics";

    /// <summary>
    /// When set, the scrape endpoint answers only on connections to this port (which the server must
    /// also listen on, e.g. ASPNETCORE_HTTP_PORTS=8080;9464), so it need not be exposed with the API.
    /// </summary>
    public int? Port { get; set; }
}

internal sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsOptions options)
    {
        var failures = new List<string>();
        if (options.Path is not ['/', ..] || options.Path.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-' or '.')))
        {
            failures.Add("Metrics__Path must be a path starting with '/' (letters, digits, '/', '_', '-', '.').");
        }

        if (options.Port is < 1 or > 65535)
        {
            failures.Add("Metrics__Port must be a TCP port (1-65535).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
