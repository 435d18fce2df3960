using System.Text.Json;

namespace Kanso.Api.Features.PushChanges;

/// <summary>The push envelope. <c>mutations</c> is read as raw JSON so that one malformed mutation rejects only itself.</summary>
internal sealed record PushChangesRequest
{
    public JsonElement? Mutations { get; init; }
}

/// <summary>One result per mutation, in request order, and the cursor of the push's last effect.</summary>
internal sealed record PushChangesResponse(PushResult[] Results, string Cursor);

/// <summary>
/// A mutation's result: <c>record</c> for applied and conflict, <c>errors</c> for rejected.
/// <c>replayed</c> is true when the <c>mutation_id</c> was seen before: the first result's status and
/// errors, with <c>record</c> as the record is now.
/// </summary>
internal sealed record PushResult(string? MutationId, string Status, object? Record, IDictionary<string, string[]>? Errors, bool Replayed = false)
{
    public static PushResult Applied(string? mutationId, object record) => new(mutationId, "applied", record, null);

    public static PushResult Conflict(string? mutationId, object current) => new(mutationId, "conflict", current, null);

    public static PushResult NotFound(string? mutationId) => new(mutationId, "not_found", null, null);

    public static PushResult Rejected(string? mutationId, IDictionary<string, string[]> errors) => new(mutationId, "rejected", null, errors);
}
