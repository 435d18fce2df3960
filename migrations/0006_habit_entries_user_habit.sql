-- The foreign key from entries to their habit, (user_id, habit_id), had only a partial index (live
-- entries, with completion_date). Deleting a habit row (the tombstone purge, an account deletion)
-- cascades to its entries by (user_id, habit_id) whether deleted or not, which then scanned every entry
-- of the user once per habit. This index serves the cascade; it holds user_id first, like every
-- index here, so it is co-located with its rows when the table is distributed by user_id.
CREATE INDEX habit_entries_user_habit ON habit_entries (user_id, habit_id);
