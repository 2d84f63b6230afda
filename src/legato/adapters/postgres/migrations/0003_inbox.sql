-- Messages for executions (signals, child outcomes, task tokens), consumed by the transition
-- that records them, and the parent a child reports to when it closes.
ALTER TABLE executions ADD COLUMN parent_id TEXT;
ALTER TABLE executions ADD COLUMN parent_ref INTEGER;

CREATE TABLE inbox (
    id BIGSERIAL PRIMARY KEY,
    execution_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    ref INTEGER,
    payload TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX inbox_by_execution ON inbox (execution_id, id);
