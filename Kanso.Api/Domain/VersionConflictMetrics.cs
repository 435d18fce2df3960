using Microsoft.AspNetCore.Http.HttpResults;

namespace Kanso.Api.Domain;

/// <summary>
/// Counts the REST routes' version conflicts: a 409 problem carrying <c>current</c> (the server's
/// copy), which is how every slice answers a stale version. Pushes count theirs themselves.
/// </summary>
internal sealed class VersionConflictMetrics(KansoMetrics metrics) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var inner = result is INestedHttpResult nested ? nested.Result : result;
        if (inner is ProblemHttpResult { StatusCode: StatusCodes.Status409Conflict } problem && problem.ProblemDetails.Extensions.ContainsKey("current"))
        {
            metrics.RestConflict();
        }

        return result;
    }
}
