-- The HTTP API's executions: labels (a JSON object of strings, NULL for none) and an index
-- table to filter by them, written in the start's own transaction and only for executions
-- that have labels, indexes to list newest first (keyset: created_at, id) by status,
-- workflow and version, or by when it closed, and the code workflows the orchestrating
-- engines serve (upserted by each at start-up), with the JSON Schema of their arguments.
ALTER TABLE executions ADD COLUMN labels TEXT;
CREATE INDEX executions_newest ON executions (created_at, id);
CREATE INDEX executions_by_workflow ON executions (workflow, created_at, id);
CREATE INDEX executions_by_closed ON executions (closed_at) WHERE closed_at IS NOT NULL;

CREATE TABLE execution_labels (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    execution_id TEXT NOT NULL,
    PRIMARY KEY (key, value, created_at, execution_id)
) WITHOUT ROWID;

CREATE TABLE workflow_types (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    args_schema TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
