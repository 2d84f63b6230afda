-- Schedules (migration 0010; legato.ports.schedules), loaded with queries.sql. A schedule's
-- columns are always read in this order (adapters/schedule_rows.py, schedule_from_row).

-- name: insert_schedule
INSERT INTO schedules (name, workflow, version, spec, input, overlap, catchup_window_ms, paused,
    note, next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin,
    partition, created_at, updated_at)
VALUES (:name, :workflow, :version, :spec, :input, :overlap, :catchup_window_ms, :paused,
    :note, :next_fire_ms, :buffered_ms, :running, :missed, :skipped, :started, :revision,
    :origin, :partition, :created_at, :updated_at)
ON CONFLICT (name) DO NOTHING;

-- name: update_schedule
UPDATE schedules SET workflow = :workflow, version = :version, spec = :spec, input = :input,
    overlap = :overlap, catchup_window_ms = :catchup_window_ms, paused = :paused, note = :note,
    next_fire_ms = :next_fire_ms, buffered_ms = :buffered_ms, running = :running,
    missed = :missed, skipped = :skipped, started = :started, revision = :revision,
    origin = :origin, updated_at = :updated_at
WHERE name = :name AND revision = :expected;

-- name: select_schedule
SELECT name, workflow, version, spec, input, overlap, catchup_window_ms, paused, note,
    next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin, partition,
    created_at, updated_at
FROM schedules WHERE name = :name;

-- name: lock_schedule
-- A fire's first read: the row is locked until the fire commits, so a fire racing it on
-- another replica reads the revision it leaves (SQLite has one writer: a plain read).
SELECT name, workflow, version, spec, input, overlap, catchup_window_ms, paused, note,
    next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin, partition,
    created_at, updated_at
FROM schedules WHERE name = :name;

-- name: list_schedules
SELECT name, workflow, version, spec, input, overlap, catchup_window_ms, paused, note,
    next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin, partition,
    created_at, updated_at
FROM schedules ORDER BY name;

-- name: schedules_in
SELECT name, workflow, version, spec, input, overlap, catchup_window_ms, paused, note,
    next_fire_ms, buffered_ms, running, missed, skipped, started, revision, origin, partition,
    created_at, updated_at
FROM schedules WHERE partition IN (SELECT value FROM json_each(:parts)) ORDER BY name;

-- name: delete_schedule
DELETE FROM schedules WHERE name = :name;

-- name: delete_schedule_fires
DELETE FROM schedule_fires WHERE schedule = :name;

-- name: advance_schedule
-- What one fire changed; guarded by the revision the fire was decided on.
UPDATE schedules SET next_fire_ms = :next_fire_ms, buffered_ms = :buffered_ms,
    running = :running, missed = missed + :missed, skipped = skipped + :skipped,
    started = started + :started, revision = revision + 1, updated_at = :now
WHERE name = :name AND revision = :revision;

-- name: open_executions
-- The runs that keep a fire waiting or skipped: a SUSPENDED one waits for an operator, not
-- the schedule (the complement of select_settled_executions).
SELECT id FROM executions
WHERE id IN (SELECT value FROM json_each(:ids))
  AND status IN ('PENDING', 'RUNNING');

-- name: insert_fire
INSERT INTO schedule_fires (schedule, fire_ms, kind, outcome, execution_id, at_ms)
VALUES (:name, :fire_ms, :kind, :outcome, :execution_id, :now)
ON CONFLICT (schedule, fire_ms) DO NOTHING;

-- name: start_fire
-- A fire that waited (buffered) or a backfill of a time that did not start a run.
UPDATE schedule_fires SET outcome = :outcome, execution_id = :execution_id, at_ms = :now
WHERE schedule = :name AND fire_ms = :fire_ms AND execution_id IS NULL;

-- name: select_fires
SELECT schedule, fire_ms, kind, outcome, execution_id, at_ms
FROM schedule_fires WHERE schedule = :name ORDER BY fire_ms DESC LIMIT :limit;
