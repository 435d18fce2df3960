namespace Kanso.Api.Features.PushChanges;

internal static class PushChangesSql
{
    // Two statements, one round trip: the lock (and the user's position), then the stored results, read after the lock.
    public const string Begin = """
        SELECT change_seq FROM users WHERE id = @userId FOR NO KEY UPDATE;
        SELECT mutation_id, request_hash, result::text FROM sync_mutations WHERE user_id = @userId AND mutation_id = ANY(@ids);
        """;

    public const string Remember = """
        INSERT INTO sync_mutations (user_id, mutation_id, request_hash, result, created_at)
        SELECT @userId, m.mutation_id, m.request_hash, m.result::json, @now
        FROM unnest(@ids::text[], @hashes::bytea[], @results::text[]) AS m (mutation_id, request_hash, result)
        ON CONFLICT (user_id, mutation_id) DO NOTHING
        """;
}
