-- Schedules (migration 0010; legato.ports.schedules), loaded with queries.sql. A schedule's
-- columns are always read in this order (adapters/schedule_rows.py, schedule_from_row).

-- name: insert_schedule
INSERT INTO schedules (name, workflow, version, spec, input, overlap, catchup_window_ms, paused,
    note, next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin,
    partition, created_at, updated_at)
VALUES (%(name)s, %(workflow)s, %(version)s, %(spec)s, %(input)s, %(overlap)s, %(catchup_window_ms)s, %(paused)s,
    %(note)s, %(next_fire_ms)s, %(buffered_ms)s, %(running)s, %(missed)s, %(skipped)s, %(started)s, %(revision)s,
    %(origin)s, %(partition)s, %(created_at)s, %(updated_at)s)
ON CONFLICT (name) DO NOTHING;

-- name: update_schedule
UPDATE schedules SET workflow = %(workflow)s, version = %(version)s, spec = %(spec)s, input = %(input)s,
    overlap = %(overlap)s, catchup_window_ms = %(catchup_window_ms)s, paused = %(paused)s, note = %(note)s,
    next_fire_ms = %(next_fire_ms)s, buffered_ms = %(buffered_ms)s, running = %(running)s,
    missed = %(missed)s, skipped = %(skipped)s, started = %(started)s, revision = %(revision)s,
    origin = %(origin)s, updated_at = %(updated_at)s
WHERE name = %(name)s AND revision = %(expected)s;

-- name: select_schedule
SELECT name, workflow, version, spec, input, overlap, catchup_window_ms, paused, note,
    next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin, partition,
    created_at, updated_at
FROM schedules WHERE name = %(name)s;

-- name: lock_schedule
-- A fire's first read: the row is locked until the fire commits, so a fire racing it on
-- another replica reads the revision it leaves (SQLite has one writer: a plain read).
SELECT name, workflow, version, spec, input, overlap, catchup_window_ms, paused, note,
    next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin, partition,
    created_at, updated_at
FROM schedules WHERE name = %(name)s
FOR UPDATE;

-- name: list_schedules
SELECT name, workflow, version, spec, input, overlap, catchup_window_ms, paused, note,
    next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin, partition,
    created_at, updated_at
FROM schedules ORDER BY name;

-- name: schedules_in
SELECT name, workflow, version, spec, input, overlap, catchup_window_ms, paused, note,
    next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin, partition,
    created_at, updated_at
FROM schedules WHERE partition = ANY(%(parts)s) ORDER BY name;

-- name: delete_schedule
DELETE FROM schedules WHERE name = %(name)s;

-- name: delete_schedule_fires
DELETE FROM schedule_fires WHERE schedule = %(name)s;

-- name: advance_schedule
-- What one fire changed; guarded by the revision the fire was decided on.
UPDATE schedules SET next_fire_ms = %(next_fire_ms)s, buffered_ms = %(buffered_ms)s,
    running = %(running)s, missed = missed + %(missed)s, skipped = skipped + %(skipped)s,
    started = started + %(started)s, revision = revision + 1, updated_at = %(now)s
WHERE name = %(name)s AND revision = %(revision)s;

-- name: open_executions
-- The runs that keep a fire waiting or skipped: a SUSPENDED one waits for an operator, not
-- the schedule (the complement of select_settled_executions).
SELECT id FROM executions
WHERE id = ANY(%(ids)s)
  AND status IN ('PENDING', 'RUNNING');

-- name: insert_fire
INSERT INTO schedule_fires (schedule, fire_ms, kind, outcome, execution_id, at_ms)
VALUES (%(name)s, %(fire_ms)s, %(kind)s, %(outcome)s, %(execution_id)s, %(now)s)
ON CONFLICT (schedule, fire_ms) DO NOTHING;

-- name: start_fire
-- A fire that waited (buffered) or a backfill of a time that did not start a run.
UPDATE schedule_fires SET outcome = %(outcome)s, execution_id = %(execution_id)s, at_ms = %(now)s
WHERE schedule = %(name)s AND fire_ms = %(fire_ms)s AND execution_id IS NULL;

-- name: select_fires
SELECT schedule, fire_ms, kind, outcome, execution_id, at_ms
FROM schedule_fires WHERE schedule = %(name)s ORDER BY fire_ms DESC LIMIT %(limit)s;
