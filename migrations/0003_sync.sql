-- Sync: the purge horizon of each user's tombstones, and the processed push mutations.

-- The purge removes tombstones older than the retention and records here how far it went, in the
-- two orders clients follow: the highest change number purged (a pull cursor below it may have
-- missed a deletion: 410) and the latest updated_at purged (the same for the legacy timestamp routes).
ALTER TABLE users
    ADD COLUMN purged_seq        bigint      NOT NULL DEFAULT 0,
    ADD COLUMN purged_updated_at timestamptz;

-- The purge finds the oldest tombstones first; live rows are not in these indexes.
CREATE INDEX habits_purge ON habits (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX habit_entries_purge ON habit_entries (deleted_at) WHERE deleted_at IS NOT NULL;

-- A push's mutations, once processed: a replay of the same mutation_id returns the stored result
-- (exactly once under retries), and request_hash tells a replay from a reused id with another body.
CREATE TABLE sync_mutations (
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mutation_id  text        NOT NULL CHECK (char_length(mutation_id) BETWEEN 1 AND 128),
    request_hash bytea       NOT NULL,
    result       jsonb       NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, mutation_id)
);
CREATE INDEX sync_mutations_created_at ON sync_mutations (created_at);

-- Pull pages through each user's changes in (change_seq, id) order: one change number can stamp many
-- rows (a habit delete tombstones its entries under the habit's number), so a page may end inside
-- one and the next resumes after the last id served. With id in the index that resumption is a
-- single index range, (user_id, change_seq, id) >= (@user, @seq, @id), read in order and cut by
-- LIMIT. The old (user_id, change_seq) indexes are a prefix of these and go.
DROP INDEX habits_user_change_seq;
CREATE INDEX habits_user_change_seq ON habits (user_id, change_seq, id);
DROP INDEX habit_entries_user_change_seq;
CREATE INDEX habit_entries_user_change_seq ON habit_entries (user_id, change_seq, id);
