-- Operating executions: what a child does when its parent closes first, and the running steps
-- an execution asked to stop (their workers learn it when they renew their leases).
ALTER TABLE executions ADD COLUMN parent_close_policy TEXT;
CREATE INDEX executions_by_parent ON executions (parent_id) WHERE parent_id IS NOT NULL;
ALTER TABLE tasks ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
