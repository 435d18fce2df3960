-- Scale-out by user (Citus): every table is distributed by user_id and co-located with users, so a
-- user's rows live together on one node. A unique index must contain the distribution column, so
-- users can no longer keep email unique. Logging in starts from an email, not a user id: the
-- credentials move to their own table keyed by email, which Citus distributes by email (its own
-- shards, not co-located with users). The email's primary key enforces uniqueness cluster-wide,
-- registration writes both rows in one transaction, and login reads one row from one shard.
CREATE TABLE logins (
    email         text NOT NULL PRIMARY KEY CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    user_id       uuid NOT NULL,
    password_hash text NOT NULL
);

INSERT INTO logins (email, user_id, password_hash)
SELECT email, id, password_hash FROM users;

DROP INDEX users_email_key;
ALTER TABLE users DROP COLUMN password_hash;
