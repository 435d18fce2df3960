using System.Diagnostics;

namespace Kanso.Api.Infrastructure.Observability;

/// <summary>
/// The names Kanso's own spans and metrics are published under. Spans cost nothing when no tracer
/// listens (StartActivity returns null), which is the case unless an OTLP endpoint is configured.
/// </summary>
internal static class KansoDiagnostics
{
    public const string Name = "Kanso.Api";

    public static readonly ActivitySource ActivitySource = new(Name);
}
