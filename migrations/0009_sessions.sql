-- Device sessions: one per login, each with a rotating refresh token. Keyed (user_id, id) like every
-- table, so it distributes by user with the rest. Only SHA-256 hashes of refresh tokens are stored.
CREATE TABLE sessions (
    user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id                 uuid        NOT NULL,
    device_name        text        CHECK (char_length(device_name) <= 100),
    -- The current refresh token's hash and its generation (0 for the login's token, +1 per rotation).
    refresh_hash       bytea       NOT NULL,
    generation         integer     NOT NULL DEFAULT 0 CHECK (generation >= 0),
    refresh_expires_at timestamptz NOT NULL,
    -- When the current token was issued: a retry of the spent one (its hash in previous_hash) within
    -- the grace after this instant answers the same pair, which is derived again from it.
    rotated_at         timestamptz NOT NULL,
    previous_hash      bytea,
    created_at         timestamptz NOT NULL,
    last_used_at       timestamptz NOT NULL,
    last_sync_at       timestamptz,
    PRIMARY KEY (user_id, id)
);
