-- Kanso schema v1. Every table is keyed by user_id first so the schema can be
-- distributed by user (Citus) and every query can be an index range per user.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    password_hash text        NOT NULL,
    timezone      text        NOT NULL DEFAULT 'UTC' CHECK (char_length(timezone) BETWEEN 1 AND 64),
    -- Per-user change counter: every write to the user's rows takes the next
    -- value under the user's row lock and stamps it on the rows it changes.
    change_seq    bigint      NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE habits (
    user_id         uuid             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id              uuid             NOT NULL,
    title           text             NOT NULL CHECK (char_length(title) BETWEEN 1 AND 100),
    description     text             CHECK (char_length(description) <= 500),
    color           text             CHECK (color ~ '^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$'),
    icon            text             CHECK (char_length(icon) <= 50),
    sort_order      integer          NOT NULL DEFAULT 0,
    type            text             NOT NULL DEFAULT 'boolean' CHECK (type IN ('boolean', 'numeric', 'timer')),
    target_value    double precision NOT NULL DEFAULT 1 CHECK (target_value >= 1 AND (type <> 'boolean' OR target_value = 1)),
    unit            text             CHECK (char_length(unit) <= 20),
    frequency_type  text             NOT NULL DEFAULT 'daily' CHECK (frequency_type IN ('daily', 'specific_days', 'interval', 'weekly')),
    weekdays        smallint[]       CHECK (weekdays <@ ARRAY[0,1,2,3,4,5,6]::smallint[]),
    "interval"      integer          CHECK ("interval" BETWEEN 1 AND 365),
    times_per_week  integer          CHECK (times_per_week BETWEEN 1 AND 7),
    reminder_time   text             CHECK (reminder_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    start_date      timestamptz      NOT NULL,
    end_date        timestamptz,
    archived_at     timestamptz,
    current_streak  integer          NOT NULL DEFAULT 0 CHECK (current_streak >= 0),
    longest_streak  integer          NOT NULL DEFAULT 0 CHECK (longest_streak >= 0),
    -- Set in the same transaction as an entry write; cleared by the streak
    -- worker when it stores the result, so a crash never loses a recompute.
    streak_dirty    boolean          NOT NULL DEFAULT false,
    version         integer          NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at      timestamptz      NOT NULL,
    updated_at      timestamptz      NOT NULL,
    deleted_at      timestamptz,
    change_seq      bigint           NOT NULL,
    PRIMARY KEY (user_id, id),
    CHECK (frequency_type <> 'specific_days' OR cardinality(weekdays) >= 1),
    CHECK (frequency_type <> 'interval' OR "interval" IS NOT NULL),
    CHECK (frequency_type <> 'weekly' OR times_per_week IS NOT NULL)
);
CREATE INDEX habits_user_change_seq ON habits (user_id, change_seq);
CREATE INDEX habits_user_updated_at ON habits (user_id, updated_at);
CREATE INDEX habits_streak_dirty ON habits (user_id, id) WHERE streak_dirty;

CREATE TABLE habit_entries (
    user_id          uuid             NOT NULL,
    id               uuid             NOT NULL,
    habit_id         uuid             NOT NULL,
    completion_date  timestamptz      NOT NULL,
    value            double precision NOT NULL DEFAULT 1 CHECK (value BETWEEN 0 AND 1000000),
    notes            text             CHECK (char_length(notes) <= 1000),
    version          integer          NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at       timestamptz      NOT NULL,
    updated_at       timestamptz      NOT NULL,
    deleted_at       timestamptz,
    change_seq       bigint           NOT NULL,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, habit_id) REFERENCES habits (user_id, id) ON DELETE CASCADE
);
CREATE INDEX habit_entries_user_change_seq ON habit_entries (user_id, change_seq);
CREATE INDEX habit_entries_user_updated_at ON habit_entries (user_id, updated_at);
CREATE INDEX habit_entries_user_habit_date ON habit_entries (user_id, habit_id, completion_date) WHERE deleted_at IS NULL;
-- Fits the stats query: one range scan per user and date range, no heap visits.
CREATE INDEX habit_entries_stats ON habit_entries (user_id, completion_date) INCLUDE (habit_id, value) WHERE deleted_at IS NULL;
