-- A replayed push mutation answers its first result exactly as it was written. jsonb reorders the
-- properties and respells numbers (1E-07 comes back as 0.0000001); json keeps the text as sent.
ALTER TABLE sync_mutations ALTER COLUMN result TYPE json USING result::json;
