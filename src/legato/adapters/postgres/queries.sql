-- Every SQL statement the PostgreSQL store runs, by name: the same names and parameter order
-- as the SQLite store's. Times are epoch milliseconds bound by the caller, never now().

-- name: insert_execution
INSERT INTO executions (id, workflow, version, status, input, output, error_type, error_message,
                        current_step, seq, created_at, updated_at, closed_at, partition, labels,
                        started_by)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO NOTHING;

-- name: update_execution
UPDATE executions
SET seq = %s, status = %s, current_step = coalesce(%s, current_step), output = %s,
    error_type = %s, error_message = %s, reason = %s, suspend_kind = %s, updated_at = %s,
    closed_at = %s
WHERE id = %s AND seq = %s;

-- name: update_progress
UPDATE executions SET seq = %s, current_step = coalesce(%s, current_step), updated_at = %s
WHERE id = %s AND seq = %s;

-- name: insert_event
INSERT INTO history (execution_id, seq, batch, type, ts, ref, name, payload, meta)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s);

-- name: insert_task
INSERT INTO tasks (id, execution_id, step_id, name, queue, args, available_at, attempt,
                   lease_owner, lease_expires_at, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);

-- name: insert_task_with_deadline
-- A task with a schedule-to-start deadline or a trace context (rare: the common insert leaves
-- those columns out).
INSERT INTO tasks (id, execution_id, step_id, name, queue, args, available_at, attempt,
                   lease_owner, lease_expires_at, created_at, start_by, traceparent)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);

-- name: delete_task
DELETE FROM tasks WHERE id = %s AND attempt = %s;

-- name: retry_task
UPDATE tasks
SET attempt = attempt + CASE WHEN %s::text IS NULL THEN 0 ELSE 1 END,
    available_at = %s, lease_owner = %s, lease_expires_at = %s, state = 'ready', outcome = NULL
WHERE id = %s AND attempt = %s;

-- name: insert_timer
INSERT INTO timers (execution_id, timer_id, fire_at) VALUES (%s, %s, %s);

-- name: delete_timer
DELETE FROM timers WHERE execution_id = %s AND timer_id = %s;

-- name: select_settled_executions
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE id IN (SELECT unnest(%s::text[])) AND status NOT IN ('PENDING', 'RUNNING');

-- name: select_execution
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions WHERE id = %s;

-- name: select_history
SELECT type, ts, ref, name, payload, meta, seq, batch
FROM history WHERE execution_id = %s ORDER BY seq;

-- name: list_executions
-- Newest first, keyset-paged on (created_at, id): the cursor is the last row's pair.
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(workflow)s::text IS NULL OR workflow = %(workflow)s)
  AND (%(version)s::text IS NULL OR version = %(version)s)
  AND created_at >= coalesce(%(started_after)s::bigint, 0)
  AND created_at < coalesce(%(started_before)s::bigint, 9223372036854775807)
  AND (%(closed_after)s::bigint IS NULL OR closed_at >= %(closed_after)s)
  AND (%(closed_before)s::bigint IS NULL OR closed_at < %(closed_before)s)
  AND (%(labels)s::jsonb IS NULL OR labels::jsonb @> %(labels)s::jsonb)
  AND created_at <= coalesce(%(c_at)s::bigint, 9223372036854775807)
  AND (%(c_at)s::bigint IS NULL OR created_at < %(c_at)s OR id < %(c_id)s)
ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- name: list_executions_by_status
-- The same with a status: on its index (status, created_at).
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE status = %(status)s
  AND (%(workflow)s::text IS NULL OR workflow = %(workflow)s)
  AND (%(version)s::text IS NULL OR version = %(version)s)
  AND created_at >= coalesce(%(started_after)s::bigint, 0)
  AND created_at < coalesce(%(started_before)s::bigint, 9223372036854775807)
  AND (%(closed_after)s::bigint IS NULL OR closed_at >= %(closed_after)s)
  AND (%(closed_before)s::bigint IS NULL OR closed_at < %(closed_before)s)
  AND (%(labels)s::jsonb IS NULL OR labels::jsonb @> %(labels)s::jsonb)
  AND created_at <= coalesce(%(c_at)s::bigint, 9223372036854775807)
  AND (%(c_at)s::bigint IS NULL OR created_at < %(c_at)s OR id < %(c_id)s)
ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- name: list_executions_by_workflow
-- The same with a workflow (and no status): on its index (workflow, created_at, id).
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND workflow = %(workflow)s
  AND (%(version)s::text IS NULL OR version = %(version)s)
  AND created_at >= coalesce(%(started_after)s::bigint, 0)
  AND created_at < coalesce(%(started_before)s::bigint, 9223372036854775807)
  AND (%(closed_after)s::bigint IS NULL OR closed_at >= %(closed_after)s)
  AND (%(closed_before)s::bigint IS NULL OR closed_at < %(closed_before)s)
  AND (%(labels)s::jsonb IS NULL OR labels::jsonb @> %(labels)s::jsonb)
  AND created_at <= coalesce(%(c_at)s::bigint, 9223372036854775807)
  AND (%(c_at)s::bigint IS NULL OR created_at < %(c_at)s OR id < %(c_id)s)
ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

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
    WHERE status = %(status)s
      AND created_at >= coalesce(%(started_after)s::bigint, 0)
      AND created_at < coalesce(%(started_before)s::bigint, 9223372036854775807)
      AND created_at <= coalesce(%(c_at)s::bigint, 9223372036854775807)
      AND (%(c_at)s::bigint IS NULL OR created_at < %(c_at)s OR id < %(c_id)s)
    ORDER BY created_at DESC, id DESC LIMIT %(scan)s
) AS newest
WHERE (%(workflow)s::text IS NULL OR workflow = %(workflow)s)
  AND (%(version)s::text IS NULL OR version = %(version)s)
  AND (%(closed_after)s::bigint IS NULL OR closed_at >= %(closed_after)s)
  AND (%(closed_before)s::bigint IS NULL OR closed_at < %(closed_before)s)
  AND (%(labels)s::jsonb IS NULL OR labels::jsonb @> %(labels)s::jsonb)
ORDER BY created_at DESC, id DESC LIMIT %(limit)s;

-- name: list_executions_labelled
-- The same, driven by one of the labels asked for (its index rows are in created_at order).
SELECT e.id, e.workflow, e.version, e.status, e.input, e.output, e.error_type, e.error_message,
       e.reason, e.suspend_kind, e.current_step, e.seq, e.created_at, e.updated_at, e.closed_at,
       e.labels, e.started_by
FROM execution_labels l JOIN executions e ON e.id = l.execution_id
WHERE (%(status)s::text IS NULL OR e.status = %(status)s)
  AND (%(workflow)s::text IS NULL OR e.workflow = %(workflow)s)
  AND (%(version)s::text IS NULL OR e.version = %(version)s)
  AND e.created_at >= coalesce(%(started_after)s::bigint, 0)
  AND e.created_at < coalesce(%(started_before)s::bigint, 9223372036854775807)
  AND (%(closed_after)s::bigint IS NULL OR e.closed_at >= %(closed_after)s)
  AND (%(closed_before)s::bigint IS NULL OR e.closed_at < %(closed_before)s)
  AND (%(labels)s::jsonb IS NULL OR e.labels::jsonb @> %(labels)s::jsonb)
  AND l.key = %(key)s AND l.value = %(value)s
  AND l.created_at <= coalesce(%(c_at)s::bigint, 9223372036854775807)
  AND (%(c_at)s::bigint IS NULL OR l.created_at < %(c_at)s OR l.execution_id < %(c_id)s)
ORDER BY l.created_at DESC, l.execution_id DESC LIMIT %(limit)s;

-- Operator reads (legato.ports.inspection): counts, id prefixes, retrying steps.

-- name: count_executions
SELECT count(*) FROM executions
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(workflow)s::text IS NULL OR workflow = %(workflow)s);

-- A scan (the id index has the database's collation, not one a prefix is a range of); `show`
-- tries the whole id on the primary key first.

-- name: executions_by_prefix
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions WHERE starts_with(id, %(prefix)s) ORDER BY id LIMIT %(limit)s;

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
  AND (%(eid)s::text IS NULL OR t.execution_id = %(eid)s)
  AND (t.available_at > %(now)s OR t.lease_owner IS NULL OR t.lease_expires_at < %(now)s)
ORDER BY t.available_at, t.id LIMIT %(limit)s;

-- The operator's view of queues and processes (/v1/queues, /v1/cluster, /metrics' gauges),
-- read when asked. The tasks table holds only outstanding work, so the aggregate is over that.
-- Ready: may start now and no live lease holds it (a claim would take it); running: held under
-- a live lease and due; scheduled: due later (a retry's backoff), held or not.

-- name: queue_stats
SELECT queue,
       count(*) FILTER (WHERE available_at <= %(now)s
                          AND (lease_owner IS NULL OR lease_expires_at < %(now)s)),
       min(available_at) FILTER (WHERE available_at <= %(now)s
                                   AND (lease_owner IS NULL OR lease_expires_at < %(now)s)),
       count(*) FILTER (WHERE available_at <= %(now)s AND lease_owner IS NOT NULL
                          AND lease_expires_at >= %(now)s),
       count(*) FILTER (WHERE available_at > %(now)s)
FROM tasks WHERE state = 'ready'
GROUP BY queue ORDER BY queue;

-- name: live_replicas
SELECT owner, max(heartbeat_at), sum(parts) FROM (
    SELECT id AS owner, heartbeat_at, 0 AS parts FROM replicas
    UNION ALL
    SELECT owner, 0, 1 FROM partitions WHERE owner IS NOT NULL AND lease_expires_at >= %(now)s
) AS seen
GROUP BY owner HAVING max(heartbeat_at) >= %(live_since)s OR sum(parts) > 0
ORDER BY owner;

-- name: live_workers
SELECT id, queues, steps, heartbeat_at, expires_at FROM workers
WHERE expires_at >= %(now)s ORDER BY id;

-- name: executions_to_resume
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE status IN ('PENDING', 'RUNNING', 'SUSPENDED')
  AND partition = ANY(%(parts)s)
ORDER BY created_at;

-- name: pending_executions
SELECT id, workflow, version, status, input, output, error_type, error_message, reason,
       suspend_kind, current_step, seq, created_at, updated_at, closed_at, labels,
       started_by
FROM executions
WHERE status = 'PENDING' AND partition = ANY(%(parts)s)
ORDER BY created_at LIMIT %(limit)s;

-- name: done_tasks
SELECT t.id, t.execution_id, t.step_id, t.name, t.queue, t.args, t.available_at, t.attempt,
       t.lease_owner, t.lease_expires_at, t.outcome, t.heartbeat_details
FROM tasks t JOIN executions e ON e.id = t.execution_id
WHERE t.state = 'done' AND e.status = 'RUNNING' AND e.partition = ANY(%(parts)s)
LIMIT %(limit)s;

-- name: due_timers
SELECT t.execution_id, t.timer_id, t.fire_at
FROM timers t JOIN executions e ON e.id = t.execution_id
WHERE t.fire_at <= %(until)s AND e.status = 'RUNNING' AND e.partition = ANY(%(parts)s)
ORDER BY t.fire_at LIMIT %(limit)s;

-- name: claim_tasks
UPDATE tasks
SET lease_owner = %(owner)s, lease_expires_at = %(expires)s, attempt = attempt + 1
WHERE id IN (
    SELECT id FROM tasks
    WHERE queue = ANY(%(queues)s) AND state = 'ready'
      AND available_at <= %(now)s AND (lease_owner IS NULL OR lease_expires_at < %(now)s)
      AND (start_by IS NULL OR start_by > %(now)s)
      AND name = ANY(%(steps)s)
    ORDER BY priority DESC, available_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id, execution_id, step_id, name, queue, args, available_at, attempt, lease_owner,
          lease_expires_at, outcome, heartbeat_details, start_by, traceparent;

-- name: finish_tasks
UPDATE tasks AS t SET state = 'done', outcome = f.outcome
FROM unnest(%(ids)s::text[], %(attempts)s::int[], %(owners)s::text[], %(outcomes)s::text[])
     AS f(id, attempt, owner, outcome)
WHERE t.id = f.id AND t.attempt = f.attempt AND t.lease_owner = f.owner AND t.state = 'ready'
RETURNING t.id, t.attempt;

-- name: renew_leases
-- Returns the leases renewed, with whether their execution asked the step to stop.
UPDATE tasks SET lease_expires_at = %s
WHERE lease_owner = %s AND state = 'ready' AND id = ANY(%s)
RETURNING id, cancel_requested;

-- A graceful stop (or a worker that lacks the step) gives leases back: claimable at once.

-- name: release_tasks
UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL
WHERE lease_owner = %(owner)s AND state = 'ready' AND id = ANY(%(ids)s);

-- name: release_all_tasks
UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL
WHERE lease_owner = %(owner)s AND state = 'ready';

-- name: record_heartbeat
UPDATE tasks SET heartbeat_details = %s,
                 lease_expires_at = greatest(coalesce(lease_expires_at, 0), %s)
WHERE id = %s AND attempt = %s;

-- Task ids are "{execution_id}:{step_id}": the id range finds an execution's tasks on the
-- primary key, so no index on execution_id has to be kept up on every step.

-- name: delete_execution_tasks
DELETE FROM tasks
WHERE id >= %(eid)s || ':' AND id < %(eid)s || ';' AND execution_id = %(eid)s;

-- name: park_tasks
UPDATE tasks SET state = 'parked'
WHERE id >= %(eid)s || ':' AND id < %(eid)s || ';' AND execution_id = %(eid)s
  AND state = 'ready';

-- name: unpark_tasks
UPDATE tasks SET state = 'ready', lease_owner = NULL, lease_expires_at = NULL
WHERE id >= %(eid)s || ':' AND id < %(eid)s || ';' AND execution_id = %(eid)s
  AND state = 'parked';

-- name: delete_execution_timers
DELETE FROM timers WHERE execution_id = %(eid)s;

-- name: notify
SELECT pg_notify(%s, '');

-- Orchestrator replicas: each holds renewable leases on some of the fixed partitions.

-- name: heartbeat_replica
INSERT INTO replicas (id, heartbeat_at) VALUES (%(owner)s, %(now)s)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at;

-- name: forget_replicas
DELETE FROM replicas WHERE heartbeat_at < %(stale)s OR (id = %(owner)s AND %(leaving)s);

-- name: count_replicas
SELECT count(*) FROM replicas WHERE heartbeat_at >= %(live_since)s;

-- name: renew_partitions
UPDATE partitions SET lease_expires_at = %(expires)s
WHERE owner = %(owner)s AND lease_expires_at >= %(now)s
RETURNING id;

-- name: release_partitions
UPDATE partitions SET owner = NULL, lease_expires_at = 0
WHERE owner = %(owner)s AND id = ANY(%(ids)s);

-- name: acquire_partitions
UPDATE partitions SET owner = %(owner)s, lease_expires_at = %(expires)s
WHERE id IN (
    SELECT id FROM partitions WHERE owner IS NULL OR lease_expires_at < %(now)s
    ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
RETURNING id;

-- Owners proven dead (legato.ports.liveness): who else holds leases, and taking them over.

-- name: lease_holders
SELECT owner, sum(parts), sum(tasks), max(expires) FROM (
    SELECT owner, 1 AS parts, 0 AS tasks, lease_expires_at AS expires FROM partitions
    WHERE owner IS NOT NULL AND owner <> %(owner)s AND lease_expires_at >= %(now)s
    UNION ALL
    SELECT lease_owner, 0, 1, lease_expires_at FROM tasks
    WHERE lease_owner IS NOT NULL AND lease_owner <> %(owner)s AND state = 'ready'
      AND lease_expires_at >= %(now)s
    UNION ALL
    SELECT id, 0, 0, 0 FROM replicas WHERE id <> %(owner)s AND heartbeat_at >= %(live_since)s
) AS held
GROUP BY owner ORDER BY owner;

-- name: hold_owner_lock
-- A session lock, held on a connection of its own for the process's life.
SELECT pg_advisory_lock(%(key)s);

-- name: release_owner_lock
-- Before closing: a closed session ends on the server a moment later, still holding it.
SELECT pg_advisory_unlock_all();

-- name: owners_alive
-- A key nobody holds is taken only for this statement (autocommit: its own transaction);
-- taking it proves its owner's session, and so its process, is gone.
SELECT k, NOT pg_try_advisory_xact_lock(k) FROM unnest(%(keys)s::bigint[]) AS k;

-- name: free_partitions_of
UPDATE partitions SET owner = NULL, lease_expires_at = 0 WHERE owner = %(owner)s;

-- name: end_task_leases_of
UPDATE tasks SET lease_expires_at = 0 WHERE lease_owner = %(owner)s AND state = 'ready';

-- name: forget_replica
DELETE FROM replicas WHERE id = %(owner)s;

-- Workers and the steps they serve (rolling deploys); queues and steps are JSON arrays.

-- name: heartbeat_worker
INSERT INTO workers (id, queues, steps, heartbeat_at, expires_at)
VALUES (%(owner)s, %(queues)s, %(steps)s, %(now)s, %(expires)s)
ON CONFLICT (id) DO UPDATE SET queues = excluded.queues, steps = excluded.steps,
                               heartbeat_at = excluded.heartbeat_at,
                               expires_at = excluded.expires_at;

-- name: forget_workers
DELETE FROM workers WHERE expires_at < %(stale)s OR (id = %(owner)s AND %(leaving)s);

-- name: waiting_steps
SELECT t.id, t.name, t.queue
FROM tasks t
WHERE t.id >= %(eid)s || ':' AND t.id < %(eid)s || ';' AND t.execution_id = %(eid)s
  AND t.state = 'ready' AND (t.lease_owner IS NULL OR t.lease_expires_at < %(now)s)
  AND NOT EXISTS (
      SELECT 1 FROM workers w
      WHERE w.expires_at >= %(now)s
        AND w.queues::jsonb @> jsonb_build_array(t.queue)
        AND w.steps::jsonb @> jsonb_build_array(t.name)
  )
ORDER BY t.step_id;

-- Guarded forms for pipelined commits (see legato_expect_one in the first migration).

-- name: insert_execution_expect
WITH g AS (
    INSERT INTO executions (id, workflow, version, status, input, output, error_type,
                            error_message, current_step, seq, created_at, updated_at, closed_at,
                            partition, labels, started_by)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (id) DO NOTHING RETURNING 1
) SELECT legato_expect_one((SELECT count(*) FROM g));

-- name: update_execution_expect
WITH g AS (
    UPDATE executions
    SET seq = %s, status = %s, current_step = coalesce(%s, current_step), output = %s,
        error_type = %s, error_message = %s, reason = %s, suspend_kind = %s, updated_at = %s,
        closed_at = %s
    WHERE id = %s AND seq = %s RETURNING 1
) SELECT legato_expect_one((SELECT count(*) FROM g));

-- name: update_progress_expect
WITH g AS (
    UPDATE executions SET seq = %s, current_step = coalesce(%s, current_step), updated_at = %s
    WHERE id = %s AND seq = %s RETURNING 1
) SELECT legato_expect_one((SELECT count(*) FROM g));

-- name: delete_task_expect
WITH g AS (DELETE FROM tasks WHERE id = %s AND attempt = %s RETURNING 1)
SELECT legato_expect_one((SELECT count(*) FROM g));

-- name: retry_task_expect
WITH g AS (
    UPDATE tasks
    SET attempt = attempt + CASE WHEN %s::text IS NULL THEN 0 ELSE 1 END,
        available_at = %s, lease_owner = %s, lease_expires_at = %s, state = 'ready',
        outcome = NULL
    WHERE id = %s AND attempt = %s RETURNING 1
) SELECT legato_expect_one((SELECT count(*) FROM g));

-- name: delete_timer_expect
WITH g AS (DELETE FROM timers WHERE execution_id = %s AND timer_id = %s RETURNING 1)
SELECT legato_expect_one((SELECT count(*) FROM g));

-- API keys (migration 0008): looked up by the SHA-256 of the key, never by the key.

-- name: insert_api_key
INSERT INTO api_keys (id, name, secret_hash, created_at)
VALUES (%(id)s, %(name)s, %(hash)s, %(now)s);

-- name: list_api_keys
SELECT id, name, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at, id;

-- name: select_api_key
SELECT id, name, created_at, last_used_at, revoked_at FROM api_keys WHERE id = %(id)s;

-- name: active_api_keys
SELECT secret_hash, id FROM api_keys WHERE revoked_at IS NULL;

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = %(now)s WHERE id = %(id)s AND revoked_at IS NULL;

-- name: touch_api_keys
UPDATE api_keys SET last_used_at = %(now)s
WHERE id = ANY(%(ids)s) AND (last_used_at IS NULL OR last_used_at < %(now)s);

-- Inbox: messages for executions, consumed by the transition that records them.

-- name: send_inbox
INSERT INTO inbox (execution_id, kind, name, ref, payload, created_at)
SELECT %(eid)s, %(kind)s, %(name)s, %(ref)s, %(payload)s, %(now)s
FROM executions
WHERE id = %(eid)s AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'TERMINATED');

-- name: select_inbox
SELECT i.id, i.execution_id, i.kind, i.name, i.ref, i.payload, i.created_at
FROM inbox i JOIN executions e ON e.id = i.execution_id
WHERE (e.status = 'RUNNING' OR (i.kind = %(terminate)s AND e.status IN ('PENDING', 'SUSPENDED'))) AND e.partition = ANY(%(parts)s)
ORDER BY i.id LIMIT %(limit)s;

-- name: select_execution_inbox
SELECT id, execution_id, kind, name, ref, payload, created_at
FROM inbox WHERE execution_id = %s ORDER BY id;

-- name: delete_inbox
DELETE FROM inbox WHERE id = %s;

-- name: delete_inbox_expect
WITH g AS (DELETE FROM inbox WHERE id = %s RETURNING 1)
SELECT legato_expect_one((SELECT count(*) FROM g));

-- name: delete_execution_inbox
DELETE FROM inbox WHERE execution_id = %(eid)s;

-- A closing execution reports to the parent awaiting it (parent_ref names the parent's command).

-- name: notify_parent
-- Wakes the orchestrators only when a parent was told (most executions have none).
WITH told AS (
    INSERT INTO inbox (execution_id, kind, name, ref, payload, created_at)
    SELECT parent_id, %(kind)s::text, %(name)s, parent_ref, %(payload)s, %(now)s
    FROM executions WHERE id = %(eid)s AND parent_ref IS NOT NULL
    RETURNING 1
)
SELECT pg_notify('legato_inbox', '') FROM told;

-- Children, started in the parent's transition: the row and its first event if the id is new,
-- then (for an existing id) adoption or an answer for the parent in its inbox.

-- name: insert_child_execution
INSERT INTO executions (id, workflow, version, status, input, output, error_type, error_message,
                        current_step, seq, created_at, updated_at, closed_at, partition,
                        parent_id, parent_ref, parent_close_policy)
VALUES (%(child)s, %(workflow)s, %(version)s, 'PENDING', %(input)s, NULL, NULL, NULL, NULL, 1,
        %(now)s, %(now)s, NULL, %(partition)s, %(parent)s,
        CASE WHEN %(wait)s THEN %(ref)s::integer END, %(close_policy)s)
ON CONFLICT (id) DO NOTHING;

-- name: insert_child_event
INSERT INTO history (execution_id, seq, batch, type, ts, ref, name, payload, meta)
VALUES (%(child)s, 1, 1, %(event_type)s, %(now)s, NULL, %(workflow)s, %(input)s, %(meta)s)
ON CONFLICT DO NOTHING;

-- name: adopt_child
UPDATE executions SET parent_id = %(parent)s, parent_ref = %(ref)s
WHERE id = %(child)s AND %(wait)s AND parent_ref IS NULL AND workflow = %(workflow)s
  AND input IS NOT DISTINCT FROM %(input)s::text
  AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'TERMINATED');

-- name: link_child
INSERT INTO inbox (execution_id, kind, name, ref, payload, created_at)
SELECT %(parent)s, %(kind)s::text, c.answer, %(ref)s,
       CASE c.answer
           WHEN %(started)s::text THEN c.created_at::text
           WHEN %(completed)s::text THEN c.output
           WHEN %(conflict)s::text THEN json_build_object('workflow', c.workflow)::text
           ELSE json_build_object('error_type', coalesce(c.error_type, %(error_prefix)s::text || c.status),
                                  'message', coalesce(c.error_message, ''))::text
       END,
       %(now)s
FROM (
    SELECT e.*,
           CASE WHEN e.workflow <> %(workflow)s
                     OR e.input IS DISTINCT FROM %(input)s::text THEN %(conflict)s::text
                WHEN NOT %(wait)s THEN %(started)s::text
                WHEN e.status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'TERMINATED')
                     THEN lower(e.status)
                WHEN e.parent_id IS DISTINCT FROM %(parent)s::text
                     OR e.parent_ref IS DISTINCT FROM %(ref)s::integer THEN %(conflict)s::text
           END AS answer
    FROM executions e WHERE e.id = %(child)s
) c
WHERE c.answer IS NOT NULL;

-- Schema migrations (see legato.adapters.sql_scripts.migrate), one migrator at a time.

-- name: lock_migrations
-- The key is "Legato" in ASCII.
SELECT pg_advisory_xact_lock(83998409847919);

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                                              checksum TEXT NOT NULL, applied_at BIGINT NOT NULL);

-- name: applied_migrations
SELECT version, name, checksum FROM schema_migrations ORDER BY version;

-- name: record_migration
INSERT INTO schema_migrations VALUES (%(version)s, %(name)s, %(checksum)s, %(now)s);

-- name: touch_store
INSERT INTO store_meta VALUES ('opened_at', %(now)s)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: request_task_cancel
-- The running steps of an execution that was asked to stop: workers see it as they renew.
UPDATE tasks SET cancel_requested = true WHERE id = ANY(%(ids)s);

-- name: cascade_to_children
-- A closing execution's open children, by their close policy: a cancellation request, or
-- termination (``abandon``: nothing). Wakes the orchestrators only when a child was told.
WITH told AS (
    INSERT INTO inbox (execution_id, kind, name, ref, payload, created_at)
    SELECT id, CASE parent_close_policy WHEN %(terminate_policy)s::text THEN %(terminate)s::text
                                        ELSE %(cancel)s::text END,
           NULL, NULL, %(reason)s, %(now)s
    FROM executions
    WHERE parent_id = %(eid)s AND coalesce(parent_close_policy, '') <> %(abandon)s::text
      AND status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'TERMINATED')
    RETURNING 1
)
SELECT pg_notify('legato_inbox', '') FROM told LIMIT 1;

-- name: overdue_tasks
-- Tasks no worker started by their schedule-to-start deadline (none can now: claims skip them).
SELECT t.id, t.execution_id, t.step_id, t.name, t.queue, t.args, t.available_at, t.attempt,
       t.lease_owner, t.lease_expires_at, t.outcome, t.heartbeat_details
FROM tasks t JOIN executions e ON e.id = t.execution_id
WHERE t.start_by <= %(now)s AND t.attempt = 0 AND t.state = 'ready' AND e.status = 'RUNNING'
  AND e.partition = ANY(%(parts)s)
ORDER BY t.start_by LIMIT %(limit)s;

-- name: next_start_deadline
-- The earliest start deadline of a task no worker has started (no index: read only after a
-- deadline came due, or partitions were taken over).
SELECT min(t.start_by)
FROM tasks t JOIN executions e ON e.id = t.execution_id
WHERE t.start_by IS NOT NULL AND t.attempt = 0 AND t.state = 'ready' AND e.status = 'RUNNING'
  AND e.partition = ANY(%(parts)s);

-- State machine definitions (legato.ports.definitions): a version never changes once stored.
-- Latest first: the version stored last; at the same ms, the higher number.

-- name: insert_definition
INSERT INTO definitions (name, version, number, content_hash, definition, created_at)
VALUES (%(name)s, %(version)s, %(number)s, %(hash)s, %(definition)s, %(now)s)
ON CONFLICT (name, version) DO NOTHING;

-- name: select_definition
SELECT name, version, content_hash, definition, created_at
FROM definitions WHERE name = %(name)s AND version = %(version)s;

-- name: latest_definition
SELECT name, version, content_hash, definition, created_at
FROM definitions WHERE name = %(name)s
ORDER BY created_at DESC, number DESC NULLS LAST, version DESC LIMIT 1;

-- name: definition_by_hash
SELECT name, version, content_hash, definition, created_at
FROM definitions WHERE name = %(name)s AND content_hash = %(hash)s
ORDER BY created_at DESC, number DESC NULLS LAST, version DESC LIMIT 1;

-- name: max_definition_number
SELECT max(number) FROM definitions WHERE name = %(name)s;

-- name: list_definitions
SELECT name, version, content_hash, created_at
FROM definitions ORDER BY name, created_at, number NULLS FIRST, version;

-- name: definition_versions
SELECT name, version, content_hash, created_at
FROM definitions WHERE name = %(name)s ORDER BY created_at, number NULLS FIRST, version;

-- Labels of a new execution (only for one that has labels), in its start's transaction.

-- name: insert_label
INSERT INTO execution_labels (key, value, created_at, execution_id) VALUES (%s, %s, %s, %s)
ON CONFLICT DO NOTHING;

-- The code workflows an orchestrating engine serves, recorded at its start-up (the API lists
-- them with the JSON Schema of their arguments).

-- name: upsert_workflow_type
INSERT INTO workflow_types (name, version, kind, args_schema, code_hash, seen_at)
VALUES (%(name)s, %(version)s, %(kind)s, %(args_schema)s, %(code_hash)s, %(now)s)
ON CONFLICT (name, version) DO UPDATE SET kind = excluded.kind,
    args_schema = excluded.args_schema, code_hash = excluded.code_hash,
    seen_at = excluded.seen_at;

-- name: select_workflow_types
SELECT name, version, kind, args_schema, code_hash, seen_at
FROM workflow_types ORDER BY name, version;

-- Events, subscriptions and dead letters (adapters/event_store_rows.py).

-- name: insert_events
INSERT INTO events (source, id, type, subject, time, data, received_at, via, execution_ids)
SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, (r->>6)::bigint, r->>7, r->>8
FROM jsonb_array_elements(%(rows)s::jsonb) AS r
ON CONFLICT (source, id) DO NOTHING
RETURNING source, id;

-- name: existing_executions
SELECT id FROM executions WHERE id = ANY(%(ids)s);

-- name: insert_dead_letter
INSERT INTO dead_letters (id, received_at, via, reason, body, subscription, event_source,
                          event_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (id) DO NOTHING;

-- name: select_event
SELECT source, id, type, subject, time, data, received_at, via, execution_ids
FROM events WHERE source = %(source)s AND id = %(id)s;

-- name: dead_letters_page
SELECT id, received_at, via, reason, body, subscription, event_source, event_id,
       redriven_at, redriven_to
FROM dead_letters
WHERE %(at)s::bigint IS NULL OR (received_at, id) < (%(at)s::bigint, %(id)s::text)
ORDER BY received_at DESC, id DESC LIMIT %(limit)s;

-- name: select_dead_letter
SELECT id, received_at, via, reason, body, subscription, event_source, event_id,
       redriven_at, redriven_to
FROM dead_letters WHERE id = %(id)s;

-- name: mark_dead_letter_redriven
UPDATE dead_letters SET redriven_at = %(now)s, redriven_to = %(to)s
WHERE id = %(id)s AND redriven_at IS NULL;

-- name: add_event_execution
-- A dead letter's event names the execution its redrive started.
UPDATE events SET execution_ids = (execution_ids::jsonb || to_jsonb(%(execution_id)s::text))::text
WHERE (source, id) IN (SELECT event_source, event_id FROM dead_letters WHERE id = %(letter)s);

-- name: insert_subscription
INSERT INTO subscriptions (name, event_type, workflow, version, filter, transform, created_at)
VALUES (%(name)s, %(event_type)s, %(workflow)s, %(version)s, %(filter)s, %(transform)s,
        %(now)s)
ON CONFLICT (name) DO NOTHING;

-- name: select_subscription
SELECT name, event_type, workflow, version, filter, transform, created_at
FROM subscriptions WHERE name = %(name)s;

-- name: list_subscriptions
SELECT name, event_type, workflow, version, filter, transform, created_at
FROM subscriptions ORDER BY name;

-- name: delete_subscription
DELETE FROM subscriptions WHERE name = %(name)s;
