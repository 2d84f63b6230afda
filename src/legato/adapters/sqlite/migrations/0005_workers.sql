-- Workers and what they serve, for rolling deploys: a worker claims only the steps it has, so
-- a task whose step no live worker serves waits for one, and its execution says so. A worker
-- renews its row while it runs (live until expires_at) and deletes it when it stops.
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    queues TEXT NOT NULL,  -- JSON array of queue names
    steps TEXT NOT NULL,  -- JSON array of step names
    heartbeat_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
