-- Traces: the W3C traceparent of a task's execution span, the parent of its attempts' spans,
-- carried to the worker that claims it. NULL (most tasks): the execution is the root of its
-- own trace, whose ids derive from its id (legato.core.trace_context).
ALTER TABLE tasks ADD COLUMN traceparent TEXT;
