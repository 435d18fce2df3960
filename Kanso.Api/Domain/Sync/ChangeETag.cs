using System.Security.Cryptography;
using System.Text;
using Dapper;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Time;
using Microsoft.Net.Http.Headers;
using Npgsql;

namespace Kanso.Api.Domain.Sync;

/// <summary>
/// A weak ETag for a read of the caller's records: a hash of the account's change position and the
/// request (path, query, <c>X-Timezone</c>, plus what the slice adds). Every write of the account
/// takes a new position, so it changes every tag. A request whose <c>If-None-Match</c> holds the
/// tag is answered 304 after one read of the position, without reading the records.
/// <para>
/// The position is read before the records: a write committed in between gives the answer an older
/// tag than its content, which can only cost a full answer later, never a stale 304.
/// </para>
/// </summary>
internal sealed class ChangeETagFilter(NpgsqlDataSource db, Func<HttpContext, string?>? vary) : IEndpointFilter
{
    public const string VaryNone = "";

    private const string PositionSql = "SELECT change_seq FROM users WHERE id = @userId";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;

        // The slice's own part of the request; null means this answer cannot be tagged (it moves with the clock).
        var extra = vary is null ? VaryNone : vary(http);
        if (extra is null)
        {
            return await next(context);
        }

        var userId = http.User.GetUserId();
        long? position;
        await using (var connection = await db.OpenConnectionAsync(http.RequestAborted))
        {
            position = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(PositionSql, new { userId }, cancellationToken: http.RequestAborted));
        }

        if (position is null)
        {
            return await next(context);
        }

        var tag = Tag(userId, position.Value, http.Request, extra);
        if (Matches(http.Request, tag))
        {
            SetHeaders(http.Response, tag);
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        http.Response.OnStarting(() =>
        {
            if (http.Response.StatusCode == StatusCodes.Status200OK)
            {
                SetHeaders(http.Response, tag);
            }

            return Task.CompletedTask;
        });
        return await next(context);
    }

    private static string Tag(Guid userId, long position, HttpRequest request, string extra)
    {
        var text = string.Join('\n', userId.ToString("N"), position.ToString(System.Globalization.CultureInfo.InvariantCulture),
            request.Path.Value, request.QueryString.Value, request.Headers[TimezoneFilter.HeaderName].ToString(), extra);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return $"W/\"{Convert.ToBase64String(hash, 0, 18).Replace('+', '-').Replace('/', '_')}\"";
    }

    private static bool Matches(HttpRequest request, string tag)
    {
        var header = request.Headers.IfNoneMatch;
        if (header.Count == 0 || !EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        var ours = EntityTagHeaderValue.Parse(tag);
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(ours, useStrongComparison: false));
    }

    private static void SetHeaders(HttpResponse response, string tag)
    {
        response.Headers.ETag = tag;
        response.Headers.CacheControl = "private, no-cache";
    }
}

internal static class ChangeETagExtensions
{
    /// <summary>
    /// Tags the endpoint's 200 answers (see <see cref="ChangeETagFilter"/>). <paramref name="vary"/> adds
    /// what else the answer depends on; it returns null when the answer cannot be tagged.
    /// </summary>
    public static RouteHandlerBuilder WithChangeETag(this RouteHandlerBuilder builder, Func<HttpContext, string?>? vary = null) =>
        builder
            .AddEndpointFilterFactory((factory, next) =>
            {
                var filter = new ChangeETagFilter(factory.ApplicationServices.GetRequiredService<NpgsqlDataSource>(), vary);
                return context => filter.InvokeAsync(context, next);
            })
            .Produces(StatusCodes.Status304NotModified);
}
