-- Habits as people live them: the day an entry belongs to, skips, time off, the user's day start,
-- and "at most" habits. Every new key includes user_id (Citus: distributed by user).

-- The user's settings: the hour the day begins (minutes after local midnight, 0 to 6 h), and the
-- settings' own version and change number (PUT /settings is version-guarded; pull carries the
-- settings when settings_seq is past the client's cursor).
ALTER TABLE users
    ADD COLUMN day_start_minutes smallint NOT NULL DEFAULT 0 CHECK (day_start_minutes BETWEEN 0 AND 360),
    ADD COLUMN settings_version  integer  NOT NULL DEFAULT 1 CHECK (settings_version >= 1),
    ADD COLUMN settings_seq      bigint   NOT NULL DEFAULT 0;

-- Habits to do less of: at_most completes a day when its total stays at or below the target, which
-- may then be 0 (a boolean at_most habit's target is 0).
ALTER TABLE habits ADD COLUMN goal text NOT NULL DEFAULT 'at_least' CHECK (goal IN ('at_least', 'at_most'));
-- The old rule (target_value >= 1) was a column constraint whose generated name depends on the
-- columns it names: found by its definition.
DO $$
DECLARE
    old_check text;
BEGIN
    FOR old_check IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'habits'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%target_value >= (1)%'
    LOOP
        EXECUTE format('ALTER TABLE habits DROP CONSTRAINT %I', old_check);
    END LOOP;
END
$$;
ALTER TABLE habits ADD CONSTRAINT habits_target_value_check CHECK (
    (goal = 'at_least' AND target_value >= 1 AND (type <> 'boolean' OR target_value = 1))
    OR (goal = 'at_most' AND target_value >= 0 AND (type <> 'boolean' OR target_value = 0)));

-- The day an entry belongs to, fixed when it is written, so a later zone (or day start) change never
-- moves it; and whether it is a completion or a skip.
ALTER TABLE habit_entries
    ADD COLUMN local_date date,
    ADD COLUMN kind text NOT NULL DEFAULT 'done' CHECK (kind IN ('done', 'skip'));

-- Existing entries: the local date of completion_date in the user's zone (zones PostgreSQL does not
-- know count in UTC; the last hours of year 9999 ahead of UTC count on its last day, as LocalDays
-- does). AT TIME ZONE is stable, not volatile.
UPDATE habit_entries e
SET local_date = LEAST('9999-12-31'::date, (e.completion_date AT TIME ZONE (
        CASE WHEN EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = u.timezone) THEN u.timezone ELSE 'UTC' END))::date)
FROM users u
WHERE u.id = e.user_id;

ALTER TABLE habit_entries ALTER COLUMN local_date SET NOT NULL;

-- Stats and streaks read entries by local day: one range scan per user and date range.
DROP INDEX habit_entries_stats;
CREATE INDEX habit_entries_stats ON habit_entries (user_id, local_date) INCLUDE (habit_id, value, kind) WHERE deleted_at IS NULL;

-- Time off: local date ranges (both ends included) when the habits it covers (habit_ids, NULL = all)
-- are not scheduled. A synced record like habits: version, tombstones, change numbers.
CREATE TABLE time_off (
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id          uuid        NOT NULL,
    start_date  date        NOT NULL,
    end_date    date        NOT NULL,
    habit_ids   uuid[]      CHECK (cardinality(habit_ids) BETWEEN 1 AND 100),
    note        text        CHECK (char_length(note) <= 500),
    version     integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    change_seq  bigint      NOT NULL,
    PRIMARY KEY (user_id, id),
    CHECK (end_date >= start_date AND end_date - start_date < 366)
);
CREATE INDEX time_off_user_change_seq ON time_off (user_id, change_seq, id);
CREATE INDEX time_off_user_dates ON time_off (user_id, start_date) WHERE deleted_at IS NULL;
CREATE INDEX time_off_purge ON time_off (deleted_at) WHERE deleted_at IS NOT NULL;
