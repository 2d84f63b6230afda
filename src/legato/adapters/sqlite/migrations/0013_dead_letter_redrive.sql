-- A dead letter redriven (POST /v1/dead-letters/{id}/redrive): when, and the executions the
-- redrive started (a JSON array). NULL: not redriven. A redrive is done once.
ALTER TABLE dead_letters ADD COLUMN redriven_at INTEGER;
ALTER TABLE dead_letters ADD COLUMN redriven_to TEXT;
