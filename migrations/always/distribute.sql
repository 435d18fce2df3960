-- Not a numbered migration: run after them at every start-up, under the migration lock.
-- When the database has the citus extension and at least one worker, distribute Kanso's tables by
-- user (co-located with users) and logins by email; tables already distributed are left alone, so
-- this is idempotent. On plain PostgreSQL (no citus extension) it does nothing.
DO $$
DECLARE
    t record;
    distributed text[] := '{}';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_dist_node WHERE groupid <> 0 AND noderole = ''primary'' AND isactive)' INTO STRICT t;
    IF NOT t.exists THEN
        RAISE NOTICE 'citus is installed but has no worker: Kanso''s tables stay local to this node';
        RETURN;
    END IF;
    -- Distributing tables linked by foreign keys in one transaction must not open parallel connections.
    SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
    FOR t IN
        SELECT * FROM (VALUES
            (1, 'users', 'id', 'default'),
            (2, 'habits', 'user_id', 'users'),
            (3, 'habit_entries', 'user_id', 'users'),
            (4, 'sync_mutations', 'user_id', 'users'),
            (5, 'sessions', 'user_id', 'users'),
            (6, 'time_off', 'user_id', 'users'),
            (7, 'logins', 'email', 'none')) AS v (ord, name, col, colocate)
        ORDER BY ord
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t.name::regclass) THEN
            PERFORM create_distributed_table(t.name, t.col, colocate_with => t.colocate);
            RAISE NOTICE 'distributed % by %', t.name, t.col;
            distributed := t.name || distributed;
        END IF;
    END LOOP;
    -- Rows a table held before it was distributed were copied into its shards; the coordinator's
    -- own copy is invisible from now on but still on disk: drop it (children before parents).
    FOREACH t.name IN ARRAY distributed LOOP
        PERFORM truncate_local_data_after_distributing_table(t.name::regclass);
    END LOOP;
END
$$;
