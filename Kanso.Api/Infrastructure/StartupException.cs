namespace Kanso.Api.Infrastructure;

/// <summary>A start-up failure the operator can fix; Program prints its message as one line and exits 1.</summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
