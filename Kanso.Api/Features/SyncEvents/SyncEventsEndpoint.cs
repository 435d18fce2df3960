using System.Globalization;
using System.Security.Claims;
using System.Text;
using Kanso.Api.Domain.Sync;
using Kanso.Api.Infrastructure.Auth;
using Kanso.Api.Infrastructure.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Kanso.Api.Features.SyncEvents;

/// <summary>
/// <c>GET /sync/events</c>: a Server-Sent Events stream of hints that the caller's data changed.
/// A hint carries nothing; the client pulls with its own cursor. The stream holds no database
/// connection: it waits on a <see cref="ChangeSubscription"/> of this instance's hub.
/// </summary>
internal static class SyncEventsEndpoint
{
    public const string ContentType = "text/event-stream";

    private static readonly byte[] Change = Encoding.UTF8.GetBytes("event: change\ndata: {}\n\n");
    private static readonly byte[] Reauth = Encoding.UTF8.GetBytes("event: reauth\ndata: {}\n\n");
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes(": ping\n\n");

    public static RouteGroupBuilder MapSyncEvents(this RouteGroupBuilder group)
    {
        group.MapGet("/sync/events", HandleAsync)
            .WithName("SyncEvents")
            .WithSummary("A Server-Sent Events stream that says `change` whenever a change of the caller's data has committed: then pull with your cursor.")
            .WithDescription("""
                **Events.** `event: change` (`data: {}`) once when the stream opens and then after every committed change (coalesced: at most one per 50 ms). A hint carries no data: pull with your cursor, which is the truth. `: ping` comment lines keep proxies from closing an idle stream (every 15 s by default).

                **End.** Before the token's `exp` the server sends `event: reauth` and closes: log in again and reopen. When the account is deleted the stream sends a last `change` and closes. A server that shuts down closes its streams. Reconnect after any end or failure, with a short backoff; every stream starts with a `change`.

                **Limits.** At most 10 open streams per user on one instance (429 beyond). Browsers: read it with `fetch` (EventSource cannot send the Authorization header).
                """)
            .WithTags("Sync")
            .Produces(StatusCodes.Status200OK, contentType: ContentType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .DisableRequestTimeout();
        return group;
    }

    private static async Task<IResult> HandleAsync(HttpContext http, ClaimsPrincipal principal, ChangeHintHub hub, IOptions<LiveOptions> options, CancellationToken ct)
    {
        var settings = options.Value;
        var userId = principal.GetUserId();
        using var subscription = hub.TrySubscribe(userId, settings.MaxStreamsPerUser);
        if (subscription is null)
        {
            http.Response.Headers.RetryAfter = "5";
            return Problems.Create(StatusCodes.Status429TooManyRequests, "too many streams",
                $"This account already has {settings.MaxStreamsPerUser} open event streams on this server: close one, or share one stream between the parts of the app.");
        }

        // The token's exp (the bearer handler has checked it is there and in the future).
        var expires = long.TryParse(principal.FindFirst(JwtRegisteredClaimNames.Exp)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var exp)
            ? DateTimeOffset.FromUnixTimeSeconds(exp)
            : DateTimeOffset.UtcNow;
        var reauthAt = expires - settings.ReauthBefore;

        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();

        try
        {
            // Subscribed first, then the opening hint: a change committed from here on is not missed.
            await SendAsync(response, Change, ct);
            var nextPing = DateTimeOffset.UtcNow + settings.HeartbeatInterval;
            while (!ct.IsCancellationRequested && !hub.Stopping.IsCancellationRequested)
            {
                var now = DateTimeOffset.UtcNow;
                if (now >= reauthAt)
                {
                    await SendAsync(response, Reauth, ct);
                    break;
                }

                if (now >= nextPing)
                {
                    await SendAsync(response, Ping, ct);
                    nextPing = now + settings.HeartbeatInterval;
                    continue;
                }

                var until = nextPing < reauthAt ? nextPing : reauthAt;
                if (!await subscription.WaitAsync(until - now, ct))
                {
                    continue;
                }

                await SendAsync(response, Change, ct);
                if (subscription.AccountDeleted)
                {
                    break;
                }

                // Hints that come meanwhile fold into the next change.
                await Task.Delay(LiveOptions.CoalesceWindow, ct);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && ct.IsCancellationRequested)
        {
            // The client went away.
        }

        return Results.Empty;
    }

    private static async Task SendAsync(HttpResponse response, byte[] frame, CancellationToken ct)
    {
        await response.Body.WriteAsync(frame, ct);
        await response.Body.FlushAsync(ct);
    }
}
