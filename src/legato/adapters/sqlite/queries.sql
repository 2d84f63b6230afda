-- Every SQL statement the SQLite store runs, by name. Times are epoch milliseconds bound as :now.

-- name: insert_execution
INSERT INTO executions (id, workflow, version, status, input, output, error_type, error_message,
                        current_step, seq, created_at, updated_at, closed_at, partition, labels,
                        started_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING;

-- name: update_execution
UPDATE executions
SET seq = ?, status = ?, current_step = coalesce(?, current_step), output = ?, error_type = ?,
    error_message = ?, reason = ?, suspend_kind = ?, updated_at = ?, closed_at = ?
WHERE id = ? AND seq = ?;

-- name: update_progress
UPDATE executions SET seq = ?, current_step = coalesce(?, current_step), updated_at = ?
WHERE id = ? AND seq = ?;

-- name: insert_event
INSERT INTO history (execution_id, seq, batch, type, ts, ref, name, payload, meta)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: insert_task
INSERT INTO tasks (id, execution_id, step_id, name, queue, args, available_at, attempt,
                   lease_owner, lease_expires_at, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: insert_task_with_deadline
-- A task with a schedule-to-start deadline or a trace context (rare: the common insert leaves
-- those columns out).
INSERT INTO tasks (id, execution_id, step_id, name, queue, args, available_at, attempt,
                   lease_owner, lease_expires_at, created_at, start_by, traceparent)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: delete_task
DELETE FROM tasks WHERE id = ? AND attempt = ?;

-- name: retry_task
UPDATE tasks
SET attempt = attempt + CASE WHEN ? IS NULL THEN 0 ELSE 1 END,
    available_at = ?, lease_owner = ?, lease_expires_at = ?, state = 'ready', outcome = NULL
WHERE id = ? AND attempt = ?;

-- name: insert_timer
INSERT INTO timers (execution_id, timer_id, fire_at) VALUES (?, ?, ?);

-- name: delete_timer
DELETE FROM timers WHERE execution_id = ? AND timer_id = ?;

-- name: select_settled_executions
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE id IN (SELECT value FROM json_each(?)) AND status NOT IN ('PENDING', 'RUNNING');

-- name: select_execution
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions WHERE id = ?;

-- name: select_history
SELECT type, ts, ref, name, payload, meta, seq, batch
FROM history WHERE execution_id = ? ORDER BY seq;

-- name: list_executions
-- Newest first, keyset-paged on (created_at, id): the cursor is the last row's pair.
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE (:status IS NULL OR status = :status)
  AND (:workflow IS NULL OR workflow = :workflow)
  AND (:version IS NULL OR version = :version)
  AND created_at >= coalesce(:started_after, 0)
  AND created_at < coalesce(:started_before, 9223372036854775807)
  AND (:closed_after IS NULL OR closed_at >= :closed_after)
  AND (:closed_before IS NULL OR closed_at < :closed_before)
  AND (:labels IS NULL OR NOT EXISTS (
      SELECT 1 FROM json_each(:labels) m WHERE NOT EXISTS (
          SELECT 1 FROM json_each(coalesce(labels, '{}')) x
          WHERE x.key = m.key AND x.value = m.value)))
  AND created_at <= coalesce(:c_at, 9223372036854775807)
  AND (:c_at IS NULL OR created_at < :c_at OR id < :c_id)
ORDER BY created_at DESC, id DESC LIMIT :limit;

-- name: list_executions_by_status
-- The same with a status: on its index (status, created_at).
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE status = :status
  AND (:workflow IS NULL OR workflow = :workflow)
  AND (:version IS NULL OR version = :version)
  AND created_at >= coalesce(:started_after, 0)
  AND created_at < coalesce(:started_before, 9223372036854775807)
  AND (:closed_after IS NULL OR closed_at >= :closed_after)
  AND (:closed_before IS NULL OR closed_at < :closed_before)
  AND (:labels IS NULL OR NOT EXISTS (
      SELECT 1 FROM json_each(:labels) m WHERE NOT EXISTS (
          SELECT 1 FROM json_each(coalesce(labels, '{}')) x
          WHERE x.key = m.key AND x.value = m.value)))
  AND created_at <= coalesce(:c_at, 9223372036854775807)
  AND (:c_at IS NULL OR created_at < :c_at OR id < :c_id)
ORDER BY created_at DESC, id DESC LIMIT :limit;

-- name: list_executions_by_workflow
-- The same with a workflow (and no status): on its index (workflow, created_at, id).
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE (:status IS NULL OR status = :status)
  AND workflow = :workflow
  AND (:version IS NULL OR version = :version)
  AND created_at >= coalesce(:started_after, 0)
  AND created_at < coalesce(:started_before, 9223372036854775807)
  AND (:closed_after IS NULL OR closed_at >= :closed_after)
  AND (:closed_before IS NULL OR closed_at < :closed_before)
  AND (:labels IS NULL OR NOT EXISTS (
      SELECT 1 FROM json_each(:labels) m WHERE NOT EXISTS (
          SELECT 1 FROM json_each(coalesce(labels, '{}')) x
          WHERE x.key = m.key AND x.value = m.value)))
  AND created_at <= coalesce(:c_at, 9223372036854775807)
  AND (:c_at IS NULL OR created_at < :c_at OR id < :c_id)
ORDER BY created_at DESC, id DESC LIMIT :limit;

-- name: list_executions_by_status_first
-- With labels and a status: the newest (scan) executions of the status (on its index), then
-- the other filters. A full page found there is the page; else the store asks
-- list_executions_labelled (adapters/rows.py, list_query).
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM (
    SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
           suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
           started_by
    FROM executions
    WHERE status = :status
      AND created_at >= coalesce(:started_after, 0)
      AND created_at < coalesce(:started_before, 9223372036854775807)
      AND created_at <= coalesce(:c_at, 9223372036854775807)
      AND (:c_at IS NULL OR created_at < :c_at OR id < :c_id)
    ORDER BY created_at DESC, id DESC LIMIT :scan
) AS newest
WHERE (:workflow IS NULL OR workflow = :workflow)
  AND (:version IS NULL OR version = :version)
  AND (:closed_after IS NULL OR closed_at >= :closed_after)
  AND (:closed_before IS NULL OR closed_at < :closed_before)
  AND (:labels IS NULL OR NOT EXISTS (
      SELECT 1 FROM json_each(:labels) m WHERE NOT EXISTS (
          SELECT 1 FROM json_each(coalesce(labels, '{}')) x
          WHERE x.key = m.key AND x.value = m.value)))
ORDER BY created_at DESC, id DESC LIMIT :limit;

-- name: list_executions_labelled
-- The same, driven by one of the labels asked for (its index rows are in created_at order).
SELECT e.id, e.workflow, e.version, e.status, e.input, e.output, e.error_type, e.error_message,
       e.reason, e.suspend_kind, e.current_step, e.seq, e.created_at, e.updated_at, e.closed_at,
       e.labels, e.started_by
FROM execution_labels l JOIN executions e ON e.id = l.execution_id
WHERE (:status IS NULL OR e.status = :status)
  AND (:workflow IS NULL OR e.workflow = :workflow)
  AND (:version IS NULL OR e.version = :version)
  AND e.created_at >= coalesce(:started_after, 0)
  AND e.created_at < coalesce(:started_before, 9223372036854775807)
  AND (:closed_after IS NULL OR e.closed_at >= :closed_after)
  AND (:closed_before IS NULL OR e.closed_at < :closed_before)
  AND (:labels IS NULL OR NOT EXISTS (
      SELECT 1 FROM json_each(:labels) m WHERE NOT EXISTS (
          SELECT 1 FROM json_each(coalesce(e.labels, '{}')) x
          WHERE x.key = m.key AND x.value = m.value)))
  AND l.key = :key AND l.value = :value
  AND l.created_at <= coalesce(:c_at, 9223372036854775807)
  AND (:c_at IS NULL OR l.created_at < :c_at OR l.execution_id < :c_id)
ORDER BY l.created_at DESC, l.execution_id DESC LIMIT :limit;

-- Operator reads (legato.ports.inspection): counts, id prefixes, retrying steps.

-- name: count_executions
SELECT count(*) FROM executions
WHERE (:status IS NULL OR status = :status) AND (:workflow IS NULL OR workflow = :workflow);

-- :pattern is the prefix with GLOB's wildcards bracketed, then "*": GLOB is case-sensitive and,
-- on the primary key's BINARY collation, a range scan of the prefix.

-- name: executions_by_prefix
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions WHERE id GLOB :pattern ORDER BY id LIMIT :limit;

-- A step is retrying while its task waits for the next attempt after a failed one: its last
-- StepRetryScheduled (same ref as the task's step id) holds the attempt and error. A task whose
-- next attempt runs now (held, lease live, due) is not waiting.

-- name: retrying_steps
SELECT t.execution_id, e.workflow, t.step_id, t.name, t.available_at,
       h.type, h.ts, h.ref, h.name, h.payload, h.meta, h.seq, h.batch
FROM tasks t
JOIN executions e ON e.id = t.execution_id
JOIN history h ON h.execution_id = t.execution_id AND h.seq = (
    SELECT max(r.seq) FROM history r
    WHERE r.execution_id = t.execution_id AND r.ref = t.step_id AND r.type = 'StepRetryScheduled'
)
WHERE t.state = 'ready' AND e.status = 'RUNNING'
  AND (:eid IS NULL OR t.execution_id = :eid)
  AND (t.available_at > :now OR t.lease_owner IS NULL OR t.lease_expires_at < :now)
ORDER BY t.available_at, t.id LIMIT :limit;

-- The operator's view of queues and processes (/v1/queues, /v1/cluster, /metrics' gauges),
-- read when asked. The tasks table holds only outstanding work, so the aggregate is over that.
-- Ready: may start now and no live lease holds it (a claim would take it); running: held under
-- a live lease and due; scheduled: due later (a retry's backoff), held or not.

-- name: queue_stats
SELECT queue,
       sum(CASE WHEN available_at <= :now AND (lease_owner IS NULL OR lease_expires_at < :now)
           THEN 1 ELSE 0 END),
       min(CASE WHEN available_at <= :now AND (lease_owner IS NULL OR lease_expires_at < :now)
           THEN available_at END),
       sum(CASE WHEN available_at <= :now AND lease_owner IS NOT NULL
                     AND lease_expires_at >= :now THEN 1 ELSE 0 END),
       sum(CASE WHEN available_at > :now THEN 1 ELSE 0 END)
FROM tasks WHERE state = 'ready'
GROUP BY queue ORDER BY queue;

-- name: live_replicas
SELECT owner, max(heartbeat_at), sum(parts) FROM (
    SELECT id AS owner, heartbeat_at, 0 AS parts FROM replicas
    UNION ALL
    SELECT owner, 0, 1 FROM partitions WHERE owner IS NOT NULL AND lease_expires_at >= :now
) AS seen
GROUP BY owner HAVING max(heartbeat_at) >= :live_since OR sum(parts) > 0
ORDER BY owner;

-- name: live_workers
SELECT id, queues, steps, heartbeat_at, expires_at FROM workers
WHERE expires_at >= :now ORDER BY id;

-- name: executions_to_resume
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE status IN ('PENDING', 'RUNNING', 'SUSPENDED')
  AND partition IN (SELECT value FROM json_each(:parts))
ORDER BY created_at;

-- name: done_tasks
SELECT t.id, t.execution_id, t.step_id, t.name, t.queue, t.args, t.available_at, t.attempt,
       t.lease_owner, t.lease_expires_at, t.outcome, t.heartbeat_details
FROM tasks t JOIN executions e ON e.id = t.execution_id
WHERE t.state = 'done' AND e.status = 'RUNNING'
  AND e.partition IN (SELECT value FROM json_each(:parts))
LIMIT :limit;

-- name: due_timers
SELECT t.execution_id, t.timer_id, t.fire_at
-- CROSS JOIN: driven by the due timers (timers_due), never by the RUNNING executions
FROM timers t CROSS JOIN executions e ON e.id = t.execution_id
WHERE t.fire_at <= :until AND e.status = 'RUNNING'
  AND e.partition IN (SELECT value FROM json_each(:parts))
ORDER BY t.fire_at LIMIT :limit;

-- name: claim_tasks
UPDATE tasks
SET lease_owner = :owner, lease_expires_at = :expires, attempt = attempt + 1
WHERE id IN (
    SELECT id FROM tasks
    WHERE queue IN (SELECT value FROM json_each(:queues)) AND state = 'ready'
      AND available_at <= :now AND (lease_owner IS NULL OR lease_expires_at < :now)
      AND (start_by IS NULL OR start_by > :now)
      AND name IN (SELECT value FROM json_each(:steps))
    ORDER BY priority DESC, available_at
    LIMIT :limit
)
RETURNING id, execution_id, step_id, name, queue, args, available_at, attempt, lease_owner,
          lease_expires_at, outcome, heartbeat_details, start_by, traceparent;

-- name: finish_task
UPDATE tasks SET state = 'done', outcome = ?
WHERE id = ? AND attempt = ? AND lease_owner = ? AND state = 'ready';

-- name: renew_leases
-- Returns the leases renewed, with whether their execution asked the step to stop.
UPDATE tasks SET lease_expires_at = ?
WHERE lease_owner = ? AND state = 'ready' AND id IN (SELECT value FROM json_each(?))
RETURNING id, cancel_requested;

-- A graceful stop (or a worker that lacks the step) gives leases back: claimable at once.

-- name: release_tasks
UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL
WHERE lease_owner = :owner AND state = 'ready' AND id IN (SELECT value FROM json_each(:ids));

-- name: release_all_tasks
UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL
WHERE lease_owner = :owner AND state = 'ready';

-- name: record_heartbeat
UPDATE tasks SET heartbeat_details = ?, lease_expires_at = max(coalesce(lease_expires_at, 0), ?)
WHERE id = ? AND attempt = ?;

-- Task ids are "{execution_id}:{step_id}": the id range finds an execution's tasks on the
-- primary key, so no index on execution_id has to be kept up on every step.

-- name: delete_execution_tasks
DELETE FROM tasks WHERE id >= :eid || ':' AND id < :eid || ';' AND execution_id = :eid;

-- name: park_tasks
UPDATE tasks SET state = 'parked'
WHERE id >= :eid || ':' AND id < :eid || ';' AND execution_id = :eid AND state = 'ready';

-- name: unpark_tasks
UPDATE tasks SET state = 'ready', lease_owner = NULL, lease_expires_at = NULL
WHERE id >= :eid || ':' AND id < :eid || ';' AND execution_id = :eid AND state = 'parked';

-- name: delete_execution_timers
DELETE FROM timers WHERE execution_id = :eid;

-- name: pending_executions
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE status = 'PENDING' AND partition IN (SELECT value FROM json_each(:parts))
ORDER BY created_at LIMIT :limit;

-- Orchestrator replicas: each holds renewable leases on some of the fixed partitions.

-- name: heartbeat_replica
INSERT INTO replicas (id, heartbeat_at) VALUES (:owner, :now)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at;

-- name: forget_replicas
DELETE FROM replicas WHERE heartbeat_at < :stale OR (id = :owner AND :leaving);

-- name: count_replicas
SELECT count(*) FROM replicas WHERE heartbeat_at >= :live_since;

-- name: renew_partitions
UPDATE partitions SET lease_expires_at = :expires
WHERE owner = :owner AND lease_expires_at >= :now
RETURNING id;

-- name: release_partitions
UPDATE partitions SET owner = NULL, lease_expires_at = 0
WHERE owner = :owner AND id IN (SELECT value FROM json_each(:ids));

-- name: acquire_partitions
UPDATE partitions SET owner = :owner, lease_expires_at = :expires
WHERE id IN (
    SELECT id FROM partitions WHERE owner IS NULL OR lease_expires_at < :now
    ORDER BY id LIMIT :limit
)
RETURNING id;

-- Owners proven dead (legato.ports.liveness): who else holds leases, and taking them over.

-- name: lease_holders
SELECT owner, sum(parts), sum(tasks), max(expires) FROM (
    SELECT owner, 1 AS parts, 0 AS tasks, lease_expires_at AS expires FROM partitions
    WHERE owner IS NOT NULL AND owner <> :owner AND lease_expires_at >= :now
    UNION ALL
    SELECT lease_owner, 0, 1, lease_expires_at FROM tasks
    WHERE lease_owner IS NOT NULL AND lease_owner <> :owner AND state = 'ready'
      AND lease_expires_at >= :now
    UNION ALL
    SELECT id, 0, 0, 0 FROM replicas WHERE id <> :owner AND heartbeat_at >= :live_since
) AS held
GROUP BY owner ORDER BY owner;

-- name: free_partitions_of
UPDATE partitions SET owner = NULL, lease_expires_at = 0 WHERE owner = :owner;

-- name: end_task_leases_of
UPDATE tasks SET lease_expires_at = 0 WHERE lease_owner = :owner AND state = 'ready';

-- name: forget_replica
DELETE FROM replicas WHERE id = :owner;

-- Workers and the steps they serve (rolling deploys); queues and steps are JSON arrays.

-- name: heartbeat_worker
INSERT INTO workers (id, queues, steps, heartbeat_at, expires_at)
VALUES (:owner, :queues, :steps, :now, :expires)
ON CONFLICT (id) DO UPDATE SET queues = excluded.queues, steps = excluded.steps,
                               heartbeat_at = excluded.heartbeat_at,
                               expires_at = excluded.expires_at;

-- name: forget_workers
DELETE FROM workers WHERE expires_at < :stale OR (id = :owner AND :leaving);

-- name: waiting_steps
SELECT t.id, t.name, t.queue
FROM tasks t
WHERE t.id >= :eid || ':' AND t.id < :eid || ';' AND t.execution_id = :eid
  AND t.state = 'ready' AND (t.lease_owner IS NULL OR t.lease_expires_at < :now)
  AND NOT EXISTS (
      SELECT 1 FROM workers w
      WHERE w.expires_at >= :now
        AND EXISTS (SELECT 1 FROM json_each(w.queues) q WHERE q.value = t.queue)
        AND EXISTS (SELECT 1 FROM json_each(w.steps) s WHERE s.value = t.name)
  )
ORDER BY t.step_id;

-- API keys (migration 0008): looked up by the SHA-256 of the key, never by the key.

-- name: insert_api_key
INSERT INTO api_keys (id, name, secret_hash, created_at)
VALUES (:id, :name, :hash, :now);

-- name: list_api_keys
SELECT id, name, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at, id;

-- name: select_api_key
SELECT id, name, created_at, last_used_at, revoked_at FROM api_keys WHERE id = :id;

-- name: active_api_keys
SELECT secret_hash, id FROM api_keys WHERE revoked_at IS NULL;

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL;

-- name: touch_api_keys
UPDATE api_keys SET last_used_at = :now
WHERE id IN (SELECT value FROM json_each(:ids)) AND (last_used_at IS NULL OR last_used_at < :now);

-- Inbox: messages for executions, consumed by the transition that records them.

-- name: send_inbox
INSERT INTO inbox (execution_id, kind, name, ref, payload, created_at)
SELECT :eid, :kind, :name, :ref, :payload, :now
FROM executions
WHERE id = :eid AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'TERMINATED');

-- name: select_inbox
SELECT i.id, i.execution_id, i.kind, i.name, i.ref, i.payload, i.created_at
-- CROSS JOIN: driven by the inbox (nearly always small), never by the RUNNING executions (many:
-- scanning them took 19 ms a poll at 10,000)
FROM inbox i CROSS JOIN executions e ON e.id = i.execution_id
WHERE (e.status = 'RUNNING' OR (i.kind = :terminate AND e.status IN ('PENDING', 'SUSPENDED'))) AND e.partition IN (SELECT value FROM json_each(:parts))
ORDER BY i.id LIMIT :limit;

-- name: select_execution_inbox
SELECT id, execution_id, kind, name, ref, payload, created_at
FROM inbox WHERE execution_id = ? ORDER BY id;

-- name: delete_inbox
DELETE FROM inbox WHERE id = ?;

-- name: delete_execution_inbox
DELETE FROM inbox WHERE execution_id = :eid;

-- A closing execution reports to the parent awaiting it (parent_ref names the parent's command).

-- name: notify_parent
INSERT INTO inbox (execution_id, kind, name, ref, payload, created_at)
SELECT parent_id, :kind, :name, parent_ref, :payload, :now
FROM executions WHERE id = :eid AND parent_ref IS NOT NULL;

-- Children, started in the parent's transition: the row and its first event if the id is new,
-- then (for an existing id) adoption or an answer for the parent in its inbox.

-- name: insert_child_execution
INSERT INTO executions (id, workflow, version, status, input, output, error_type, error_message,
                        current_step, seq, created_at, updated_at, closed_at, partition,
                        parent_id, parent_ref, parent_close_policy)
VALUES (:child, :workflow, :version, 'PENDING', :input, NULL, NULL, NULL, NULL, 1, :now, :now,
        NULL, :partition, :parent, CASE WHEN :wait THEN :ref END, :close_policy)
ON CONFLICT (id) DO NOTHING;

-- name: insert_child_event
INSERT INTO history (execution_id, seq, batch, type, ts, ref, name, payload, meta)
VALUES (:child, 1, 1, :event_type, :now, NULL, :workflow, :input, :meta)
ON CONFLICT DO NOTHING;

-- name: adopt_child
UPDATE executions SET parent_id = :parent, parent_ref = :ref
WHERE id = :child AND :wait AND parent_ref IS NULL AND workflow = :workflow
  AND input IS :input AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'TERMINATED');

-- name: link_child
INSERT INTO inbox (execution_id, kind, name, ref, payload, created_at)
SELECT :parent, :kind, c.answer, :ref,
       CASE c.answer
           WHEN :started THEN CAST(c.created_at AS TEXT)
           WHEN :completed THEN c.output
           WHEN :conflict THEN json_object('workflow', c.workflow)
           ELSE json_object('error_type', coalesce(c.error_type, :error_prefix || c.status),
                            'message', coalesce(c.error_message, ''))
       END,
       :now
FROM (
    SELECT e.*,
           CASE WHEN e.workflow <> :workflow OR e.input IS NOT :input THEN :conflict
                WHEN NOT :wait THEN :started
                WHEN e.status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'TERMINATED')
                     THEN lower(e.status)
                WHEN e.parent_id IS NOT :parent OR e.parent_ref IS NOT :ref THEN :conflict
           END AS answer
    FROM executions e WHERE e.id = :child
) c
WHERE c.answer IS NOT NULL;

-- Schema migrations (see legato.adapters.sql_scripts.migrate). BEGIN IMMEDIATE already holds
-- the database's write lock, so one migrator runs at a time.

-- name: lock_migrations
SELECT 1;

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                                              checksum TEXT NOT NULL, applied_at INTEGER NOT NULL);

-- name: applied_migrations
SELECT version, name, checksum FROM schema_migrations ORDER BY version;

-- name: record_migration
INSERT INTO schema_migrations VALUES (:version, :name, :checksum, :now);

-- name: touch_store
INSERT OR REPLACE INTO store_meta VALUES ('opened_at', :now);

-- name: request_task_cancel
-- The running steps of an execution that was asked to stop: workers see it as they renew.
UPDATE tasks SET cancel_requested = 1 WHERE id IN (SELECT value FROM json_each(:ids));

-- name: cascade_to_children
-- A closing execution's open children, by their close policy: a cancellation request, or
-- termination (``abandon``: nothing).
INSERT INTO inbox (execution_id, kind, name, ref, payload, created_at)
SELECT id, CASE parent_close_policy WHEN :terminate_policy THEN :terminate ELSE :cancel END,
       NULL, NULL, :reason, :now
FROM executions
WHERE parent_id = :eid AND coalesce(parent_close_policy, '') <> :abandon
  AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'TERMINATED');

-- name: overdue_tasks
-- Tasks no worker started by their schedule-to-start deadline (none can now: claims skip them).
SELECT t.id, t.execution_id, t.step_id, t.name, t.queue, t.args, t.available_at, t.attempt,
       t.lease_owner, t.lease_expires_at, t.outcome, t.heartbeat_details
FROM tasks t JOIN executions e ON e.id = t.execution_id
WHERE t.start_by <= :now AND t.attempt = 0 AND t.state = 'ready' AND e.status = 'RUNNING'
  AND e.partition IN (SELECT value FROM json_each(:parts))
ORDER BY t.start_by LIMIT :limit;

-- name: next_start_deadline
-- The earliest start deadline of a task no worker has started (no index: read only after a
-- deadline came due, or partitions were taken over).
SELECT min(t.start_by)
FROM tasks t JOIN executions e ON e.id = t.execution_id
WHERE t.start_by IS NOT NULL AND t.attempt = 0 AND t.state = 'ready' AND e.status = 'RUNNING'
  AND e.partition IN (SELECT value FROM json_each(:parts));

-- State machine definitions (legato.ports.definitions): a version never changes once stored.
-- Latest first: the version stored last; at the same ms, the higher number.

-- name: insert_definition
INSERT INTO definitions (name, version, number, content_hash, definition, created_at)
VALUES (:name, :version, :number, :hash, :definition, :now)
ON CONFLICT (name, version) DO NOTHING;

-- name: select_definition
SELECT name, version, content_hash, definition, created_at
FROM definitions WHERE name = :name AND version = :version;

-- name: latest_definition
SELECT name, version, content_hash, definition, created_at
FROM definitions WHERE name = :name
ORDER BY created_at DESC, number DESC NULLS LAST, version DESC LIMIT 1;

-- name: definition_by_hash
SELECT name, version, content_hash, definition, created_at
FROM definitions WHERE name = :name AND content_hash = :hash
ORDER BY created_at DESC, number DESC NULLS LAST, version DESC LIMIT 1;

-- name: max_definition_number
SELECT max(number) FROM definitions WHERE name = :name;

-- name: list_definitions
SELECT name, version, content_hash, created_at
FROM definitions ORDER BY name, created_at, number NULLS FIRST, version;

-- name: definition_versions
SELECT name, version, content_hash, created_at
FROM definitions WHERE name = :name ORDER BY created_at, number NULLS FIRST, version;

-- Labels of a new execution (only for one that has labels), in its start's transaction.

-- name: insert_label
INSERT INTO execution_labels (key, value, created_at, execution_id) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING;

-- The code workflows an orchestrating engine serves, recorded at its start-up (the API lists
-- them with the JSON Schema of their arguments).

-- name: upsert_workflow_type
INSERT INTO workflow_types (name, version, kind, args_schema, code_hash, seen_at)
VALUES (:name, :version, :kind, :args_schema, :code_hash, :now)
ON CONFLICT (name, version) DO UPDATE SET kind = excluded.kind,
    args_schema = excluded.args_schema, code_hash = excluded.code_hash,
    seen_at = excluded.seen_at;

-- name: select_workflow_types
SELECT name, version, kind, args_schema, code_hash, seen_at
FROM workflow_types ORDER BY name, version;

-- Events, subscriptions and dead letters (adapters/event_store_rows.py).

-- name: insert_events
INSERT INTO events (source, id, type, subject, time, data, received_at, via, execution_ids)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
       json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'),
       json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]')
FROM json_each(:rows) WHERE true
ON CONFLICT (source, id) DO NOTHING
RETURNING source, id;

-- name: existing_executions
SELECT id FROM executions WHERE id IN (SELECT value FROM json_each(:ids));

-- name: insert_dead_letter
INSERT INTO dead_letters (id, received_at, via, reason, body, subscription, event_source,
                          event_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING;

-- name: select_event
SELECT source, id, type, subject, time, data, received_at, via, execution_ids
FROM events WHERE source = :source AND id = :id;

-- name: dead_letters_page
SELECT id, received_at, via, reason, body, subscription, event_source, event_id,
       redriven_at, redriven_to
FROM dead_letters
WHERE :at IS NULL OR (received_at, id) < (:at, :id)
ORDER BY received_at DESC, id DESC LIMIT :limit;

-- name: select_dead_letter
SELECT id, received_at, via, reason, body, subscription, event_source, event_id,
       redriven_at, redriven_to
FROM dead_letters WHERE id = :id;

-- name: mark_dead_letter_redriven
UPDATE dead_letters SET redriven_at = :now, redriven_to = :to
WHERE id = :id AND redriven_at IS NULL;

-- name: add_event_execution
-- A dead letter's event names the execution its redrive started.
UPDATE events SET execution_ids = json_insert(execution_ids, '$[#]', :execution_id)
WHERE (source, id) IN (SELECT event_source, event_id FROM dead_letters WHERE id = :letter);

-- name: insert_subscription
INSERT INTO subscriptions (name, event_type, workflow, version, filter, transform, created_at)
VALUES (:name, :event_type, :workflow, :version, :filter, :transform, :now)
ON CONFLICT (name) DO NOTHING;

-- name: select_subscription
SELECT name, event_type, workflow, version, filter, transform, created_at
FROM subscriptions WHERE name = :name;

-- name: list_subscriptions
SELECT name, event_type, workflow, version, filter, transform, created_at
FROM subscriptions ORDER BY name;

-- name: delete_subscription
DELETE FROM subscriptions WHERE name = :name;
