namespace Kanso.Api.Infrastructure.Auth;

/// <summary>Marks a route as a sync (pull, push): the caller's session gets its <c>last_sync_at</c> stamped (at most once a minute).</summary>
internal sealed class SessionSyncFilter(DeviceSessions sessions) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var http = context.HttpContext;
        if (http.User.Identity?.IsAuthenticated == true && http.User.GetSessionId() is { } sessionId)
        {
            await sessions.TouchSyncAsync(http.User.GetUserId(), sessionId, http.RequestAborted);
        }

        return result;
    }
}

internal static class SessionSyncFilterExtensions
{
    public static RouteHandlerBuilder StampsSessionSync(this RouteHandlerBuilder builder) => builder.AddEndpointFilter<SessionSyncFilter>();
}
