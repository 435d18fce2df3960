using System.Collections.Concurrent;
using System.Net;

namespace Kanso.Api.Tests.Infrastructure;

/// <summary>One span as an OTLP exporter sent it: its instrumentation scope, name and ids (hex).</summary>
public sealed record OtlpSpan(string Scope, string Name, string TraceId, string SpanId, string ParentSpanId);

/// <summary>
/// A stand-in OpenTelemetry collector: accepts OTLP/HTTP protobuf trace exports (POST /v1/traces)
/// on a free loopback port and keeps every span. The ExportTraceServiceRequest is read with a
/// small protobuf field reader, enough for the fields the tests look at.
/// </summary>
public sealed class OtlpListener : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    private OtlpListener(int port)
    {
        Port = port;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<OtlpSpan> Spans { get; } = new();

    public ConcurrentQueue<string> Paths { get; } = new();

    public static OtlpListener Start() => new(Shell.FreePort());

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                Paths.Enqueue(context.Request.Url?.AbsolutePath ?? "");
                if (context.Request.Url?.AbsolutePath == "/v1/traces")
                {
                    Read(body.ToArray());
                }

                // An empty ExportTraceServiceResponse is zero bytes.
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException)
            {
            }
        }
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    // ScopeSpans { InstrumentationScope scope = 1 (name = 1); repeated Span spans = 2; }
    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; }
    private void Read(byte[] request)
    {
        foreach (var resourceSpans in Protobuf.Messages(request, 1))
        {
            foreach (var scopeSpans in Protobuf.Messages(resourceSpans, 2))
            {
                var scope = Protobuf.Messages(scopeSpans, 1).Select(s => Protobuf.String(s, 1)).FirstOrDefault() ?? "";
                foreach (var span in Protobuf.Messages(scopeSpans, 2))
                {
                    Spans.Enqueue(new OtlpSpan(
                        scope,
                        Protobuf.String(span, 5) ?? "",
                        Protobuf.Hex(span, 1),
                        Protobuf.Hex(span, 2),
                        Protobuf.Hex(span, 4)));
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }

    /// <summary>Reads the length-delimited fields of a protobuf message, skipping the others.</summary>
    private static class Protobuf
    {
        public static IEnumerable<byte[]> Messages(byte[] message, int field) => Fields(message).Where(f => f.Number == field).Select(f => f.Bytes);

        public static string? String(byte[] message, int field) =>
            Fields(message).Where(f => f.Number == field).Select(f => System.Text.Encoding.UTF8.GetString(f.Bytes)).FirstOrDefault();

        public static string Hex(byte[] message, int field) =>
            Fields(message).Where(f => f.Number == field).Select(f => Convert.ToHexStringLower(f.Bytes)).FirstOrDefault() ?? "";

        private static List<(int Number, byte[] Bytes)> Fields(byte[] message)
        {
            var fields = new List<(int, byte[])>();
            var position = 0;
            while (position < message.Length)
            {
                var key = Varint(message, ref position);
                var number = (int)(key >> 3);
                switch ((int)(key & 7))
                {
                    case 0:
                        Varint(message, ref position);
                        break;
                    case 1:
                        position += 8;
                        break;
                    case 2:
                        var length = (int)Varint(message, ref position);
                        fields.Add((number, message[position..(position + length)]));
                        position += length;
                        break;
                    case 5:
                        position += 4;
                        break;
                    default:
                        throw new InvalidDataException($"Unsupported protobuf wire type in key {key}.");
                }
            }

            return fields;
        }

        private static ulong Varint(byte[] buffer, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = buffer[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}
