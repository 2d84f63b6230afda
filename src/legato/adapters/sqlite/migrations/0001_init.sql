CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error_type TEXT,
    error_message TEXT,
    reason TEXT,
    suspend_kind TEXT,
    current_step TEXT,
    seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE INDEX executions_by_status ON executions (status, created_at);

CREATE TABLE history (
    execution_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    type TEXT NOT NULL,
    ts INTEGER NOT NULL,
    ref INTEGER,
    name TEXT,
    payload TEXT,
    meta TEXT,
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL,
    step_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    queue TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    args TEXT NOT NULL,
    available_at INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    state TEXT NOT NULL DEFAULT 'ready',
    outcome TEXT,
    heartbeat_details TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX tasks_ready ON tasks (queue, state, available_at);
CREATE INDEX tasks_done ON tasks (state) WHERE state = 'done';

CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE timers (
    execution_id TEXT NOT NULL,
    timer_id INTEGER NOT NULL,
    fire_at INTEGER NOT NULL,
    PRIMARY KEY (execution_id, timer_id)
) WITHOUT ROWID;
CREATE INDEX timers_due ON timers (fire_at);
