using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>
/// Every log line the suite's API hosts write: the in-process hosts through
/// <see cref="Provider"/> (at their configured levels), the real processes from their output.
/// <see cref="ApiFixture"/> checks them all at the end of the run for a token or a test password.
/// </summary>
public static partial class TestLogs
{
    private static readonly ConcurrentQueue<string> Lines = new();

    public static void Capture(string line) => Lines.Enqueue(line);

    /// <summary>The lines holding a JWT or one of the passwords the tests use.</summary>
    public static IReadOnlyList<string> Secrets() => Lines.Where(l => Jwt().IsMatch(l) || Password().IsMatch(l)).ToList();

    public static int Count => Lines.Count;

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")]
    private static partial Regex Jwt();

    [GeneratedRegex(@"password-\d{3}|correct horse|guess-\d+-123|pw-[0-9a-f]{32}|wrong-[0-9a-f]{32}")]
    private static partial Regex Password();

    public sealed class Provider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                Capture($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}
