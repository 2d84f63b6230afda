-- Schedules: a definition (spec JSON: cron or interval_ms, timezone, start/end, jitter, the
-- workflow, its version or NULL for the latest, its input as JSON [args, kwargs], the overlap
-- policy and catch-up window) and its state: the next fire time (NULL: none left), a fire
-- waiting for the open runs to close, the runs started that may be open (JSON array of ids),
-- counters. revision guards every change (compare and set), partition is the name's, so the
-- replica holding it runs the schedule.
CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version TEXT,
    spec TEXT NOT NULL,
    input TEXT NOT NULL,
    overlap TEXT NOT NULL,
    catchup_window_ms BIGINT NOT NULL,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    note TEXT,
    next_fire_ms BIGINT,
    buffered_ms BIGINT,
    running TEXT NOT NULL DEFAULT '[]',
    missed INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    started BIGINT NOT NULL DEFAULT 0,
    revision BIGINT NOT NULL,
    origin TEXT NOT NULL,
    partition INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX schedules_by_partition ON schedules (partition);
-- Each fire once: (schedule, nominal fire time). kind: scheduled, manual, backfill, outcome:
-- started, skipped_overlap, buffered, cancelling_other, terminating_other (the last three
-- become started when the run starts), execution_id NULL until then, or if skipped.
CREATE TABLE schedule_fires (
    schedule TEXT NOT NULL,
    fire_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    execution_id TEXT,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (schedule, fire_ms)
);
