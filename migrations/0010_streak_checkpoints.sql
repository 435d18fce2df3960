-- Incremental streak recompute (see StreakCheckpoint). Both columns are nullable: a habit without
-- a checkpoint gets a full recompute the first time, which stores one.
-- streak_checkpoint: where the streak walk stood at a Monday, as JSON with a version number
--   ({"v":1,"date":"2026-03-02","run":3,"longest":9,"fp":"..."}); an unknown version is ignored.
-- streak_dirty_from: the earliest local date an entry write touched since the last recompute
--   (least() of the writes; '-infinity' = the whole history). The recompute clears it.
ALTER TABLE habits ADD COLUMN streak_checkpoint jsonb;
ALTER TABLE habits ADD COLUMN streak_dirty_from date;

-- The recompute reads one habit's live entries from the checkpoint's date on: a range of this
-- index. user_id first, like every index here, so it is co-located with its rows on Citus.
CREATE INDEX habit_entries_user_habit_local_date ON habit_entries (user_id, habit_id, local_date) WHERE deleted_at IS NULL;
