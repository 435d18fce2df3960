-- Streaks stay true as days pass without writes: when the streak worker stores a habit's streaks it
-- also stores the instant its user's next local day begins (NULL once the habit has ended, when no
-- passing day can change them). The worker's sweep recomputes habits whose instant has come, so a
-- day missed yesterday shows current_streak 0 today even though nothing was written.
ALTER TABLE habits ADD COLUMN streak_due_at timestamptz;
CREATE INDEX habits_streak_due ON habits (streak_due_at) WHERE streak_due_at IS NOT NULL;

-- Habits written before this migration have no due instant yet: let the worker compute them once.
UPDATE habits SET streak_dirty = true WHERE deleted_at IS NULL;
