using System.Text;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.Net.Http.Headers;

namespace Kanso.Api.Infrastructure.Json;

/// <summary>
/// One reading of a JSON body's charset for everything after it (the login's per-email bucket and
/// the endpoint's binding alike): a UTF-16 or UTF-32 body is decoded strictly and handed on as
/// UTF-8; any other charset parameter is 415, and bytes that are not valid in the named charset are
/// 400. Without this, the framework honours a charset the rate limiter does not, and a charset it
/// cannot read (utf-7, garbage) is a 500.
/// </summary>
internal static class JsonCharset
{
    public static WebApplication UseKansoJsonCharset(this WebApplication app)
    {
        app.Use(NormalizeAsync);
        return app;
    }

    private static async Task NormalizeAsync(HttpContext http, RequestDelegate next)
    {
        var request = http.Request;
        if (request.ContentLength == 0
            || !MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
            || !IsJson(media)
            || !media.Charset.HasValue)
        {
            await next(http);
            return;
        }

        var charset = HeaderUtilities.RemoveQuotes(media.Charset).ToString().Trim();

        if (IsUtf8(charset))
        {
            // The framework looks the parameter up as written: "utf-8" in quotes or utf8 would be a 500.
            if (!media.Charset.Equals("utf-8", StringComparison.Ordinal))
            {
                media.Charset = "utf-8";
                request.ContentType = media.ToString();
            }

            await next(http);
            return;
        }

        if (Decoder(charset) is not { } encoding)
        {
            await Problems.Create(StatusCodes.Status415UnsupportedMediaType, "unsupported charset",
                $"A JSON body must be UTF-8 (or UTF-16 / UTF-32); charset '{Shorten(charset)}' is not read.").ExecuteAsync(http);
            return;
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, http.RequestAborted);
        string text;
        try
        {
            text = Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), encoding);
        }
        catch (DecoderFallbackException)
        {
            await Problems.Create(StatusCodes.Status400BadRequest, "invalid body",
                $"The body is not valid {encoding.WebName}.").ExecuteAsync(http);
            return;
        }

        var utf8 = Encoding.UTF8.GetBytes(text);
        media.Charset = "utf-8";
        request.ContentType = media.ToString();
        request.ContentLength = utf8.Length;
        request.Body = new MemoryStream(utf8, writable: false);
        await next(http);
    }

    private static bool IsJson(MediaTypeHeaderValue media) =>
        media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);

    private static bool IsUtf8(string charset) =>
        charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);

    /// <summary>The charsets read besides UTF-8 (RFC 8259 allowed them once), each strict: invalid bytes throw.</summary>
    private static Encoding? Decoder(string charset) => charset.ToUpperInvariant() switch
    {
        "UTF-16" or "UTF-16LE" => new UnicodeEncoding(bigEndian: false, byteOrderMark: true, throwOnInvalidBytes: true),
        "UTF-16BE" => new UnicodeEncoding(bigEndian: true, byteOrderMark: true, throwOnInvalidBytes: true),
        "UTF-32" or "UTF-32LE" => new UTF32Encoding(bigEndian: false, byteOrderMark: true, throwOnInvalidCharacters: true),
        "UTF-32BE" => new UTF32Encoding(bigEndian: true, byteOrderMark: true, throwOnInvalidCharacters: true),
        _ => null,
    };

    /// <summary>Decodes strictly; a byte order mark, when present, names the byte order.</summary>
    private static string Decode(ReadOnlySpan<byte> bytes, Encoding encoding)
    {
        var bom = encoding switch
        {
            UnicodeEncoding when bytes.StartsWith(new byte[] { 0xFF, 0xFE }) => (2, (Encoding)new UnicodeEncoding(false, true, true)),
            UnicodeEncoding when bytes.StartsWith(new byte[] { 0xFE, 0xFF }) => (2, new UnicodeEncoding(true, true, true)),
            UTF32Encoding when bytes.StartsWith(new byte[] { 0xFF, 0xFE, 0x00, 0x00 }) => (4, new UTF32Encoding(false, true, true)),
            UTF32Encoding when bytes.StartsWith(new byte[] { 0x00, 0x00, 0xFE, 0xFF }) => (4, new UTF32Encoding(true, true, true)),
            _ => (0, encoding),
        };
        return bom.Item2.GetString(bytes[bom.Item1..]);
    }

    private static string Shorten(string charset) => charset.Length <= 40 ? charset : charset[..40] + "…";
}
