using System.IO.Compression;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Options;

namespace Kanso.Api.Infrastructure.Compression;

/// <summary>
/// Response compression: JSON answers over <see cref="MinimumBytes"/> go out as Brotli or gzip (by
/// <c>Accept-Encoding</c>, fastest level), through ASP.NET Core's middleware. Smaller answers are
/// held until they end and sent as they are with a Content-Length (compressing them costs more
/// CPU than it saves bytes). Never compressed: the paths the composition root excludes (answers
/// carrying secrets, where compressing them next to attacker-chosen input leaks them: BREACH;
/// event streams, which must flush each event) and anything that is not JSON.
/// </summary>
internal static class CompressionSetup
{
    public const int MinimumBytes = 1024;

    public static readonly string[] MimeTypes = ["application/json", "application/problem+json"];

    /// <param name="excludedPrefixes">Paths (and everything under them) that are never compressed nor held.</param>
    public static IServiceCollection AddKansoCompression(this IServiceCollection services, params string[] excludedPrefixes)
    {
        services.AddSingleton(new CompressionExclusions([.. excludedPrefixes.Select(p => new PathString(p))]));
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.MimeTypes = MimeTypes;
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
        });
        services.AddSingleton<IResponseCompressionProvider, KansoCompressionProvider>();
        return services;
    }

    /// <summary>Outermost of the body-writing middleware, so errors and problem details are compressed too.</summary>
    public static WebApplication UseKansoCompression(this WebApplication app)
    {
        app.UseResponseCompression();
        app.Use(HoldSmallAnswers);
        return app;
    }

    private static async Task HoldSmallAnswers(HttpContext context, RequestDelegate next)
    {
        if (context.RequestServices.GetRequiredService<CompressionExclusions>().Excludes(context.Request))
        {
            await next(context);
            return;
        }

        var inner = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var held = new HeldBody(inner);
        context.Features.Set<IHttpResponseBodyFeature>(held);
        try
        {
            await next(context);
            await held.FinishAsync(context.Response);
        }
        finally
        {
            context.Features.Set(inner);
        }
    }

    /// <summary>The framework's choice, and no compression when the whole answer is small or the path is excluded.</summary>
    private sealed class KansoCompressionProvider(IServiceProvider services, IOptions<ResponseCompressionOptions> options, CompressionExclusions exclusions)
        : ResponseCompressionProvider(services, options)
    {
        public override bool ShouldCompressResponse(HttpContext context) =>
            !exclusions.Excludes(context.Request)
            && context.Response.ContentLength is null or >= MinimumBytes
            && base.ShouldCompressResponse(context);
    }

    /// <summary>
    /// Holds the first <see cref="MinimumBytes"/> of the answer. When more come, the held bytes and
    /// the rest go through (and are compressed); when the answer ends first, it is sent with its
    /// Content-Length (and is not). A stream that disables buffering (an event stream) goes
    /// straight through.
    /// </summary>
    private sealed class HeldBody : Stream, IHttpResponseBodyFeature
    {
        private readonly IHttpResponseBodyFeature _inner;
        private MemoryStream? _held = new();
        private System.IO.Pipelines.PipeWriter? _writer;

        public HeldBody(IHttpResponseBodyFeature inner) => _inner = inner;

        public Stream Stream => this;

        public System.IO.Pipelines.PipeWriter Writer => _writer ??= System.IO.Pipelines.PipeWriter.Create(this, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: true));

        public override bool CanRead => false;

        // Seekable only while held, so an error handler's Response.Clear() also drops what a failed
        // endpoint had written (SetLength(0)), as it would have with a buffered body.
        public override bool CanSeek => _held is not null;

        public override bool CanWrite => true;

        public override long Length => _held?.Length ?? throw new NotSupportedException();

        public override long Position { get => Length; set => throw new NotSupportedException(); }

        public void DisableBuffering()
        {
            _inner.DisableBuffering();
            if (_held is { Length: 0 })
            {
                _held = null;
            }
        }

        public async Task StartAsync(CancellationToken cancellationToken = default)
        {
            if (_held is null)
            {
                await _inner.StartAsync(cancellationToken);
            }
        }

        public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        {
            await ReleaseAsync(cancellationToken);
            await _inner.SendFileAsync(path, offset, count, cancellationToken);
        }

        public async Task CompleteAsync()
        {
            if (_writer is not null)
            {
                await _writer.FlushAsync();
            }

            await ReleaseAsync(default);
            await _inner.CompleteAsync();
        }

        /// <summary>After the app is done: a held answer goes out whole, with its length.</summary>
        public async Task FinishAsync(HttpResponse response)
        {
            if (_writer is not null)
            {
                await _writer.FlushAsync();
            }

            if (_held is { } held)
            {
                _held = null;
                if (held.Length > 0)
                {
                    if (!response.HasStarted && response.ContentLength is null)
                    {
                        response.ContentLength = held.Length;
                    }

                    await _inner.Stream.WriteAsync(held.GetBuffer().AsMemory(0, (int)held.Length));
                }
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_held is { } held)
            {
                if (held.Length + buffer.Length < MinimumBytes)
                {
                    held.Write(buffer.Span);
                    return;
                }

                await ReleaseAsync(cancellationToken);
            }

            await _inner.Stream.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) =>
            _held is null ? _inner.Stream.FlushAsync(cancellationToken) : Task.CompletedTask;

        public override void Flush() => FlushAsync(default).GetAwaiter().GetResult();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value)
        {
            if (_held is null)
            {
                throw new NotSupportedException();
            }

            _held.SetLength(value);
        }

        private async Task ReleaseAsync(CancellationToken ct)
        {
            if (_held is { } held)
            {
                _held = null;
                if (held.Length > 0)
                {
                    await _inner.Stream.WriteAsync(held.GetBuffer().AsMemory(0, (int)held.Length), ct);
                }
            }
        }
    }
}

/// <summary>The paths never compressed nor held (see <see cref="CompressionSetup"/>).</summary>
internal sealed class CompressionExclusions(PathString[] prefixes)
{
    public bool Excludes(HttpRequest request) =>
        prefixes.Any(prefix => request.Path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));
}
