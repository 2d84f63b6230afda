ALTER TABLE executions ADD COLUMN partition INTEGER NOT NULL DEFAULT 0;
CREATE INDEX executions_by_partition ON executions (partition, status);

CREATE TABLE partitions (
    id INTEGER PRIMARY KEY,
    owner TEXT,
    lease_expires_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO partitions (id) SELECT generate_series(0, 63);

CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    heartbeat_at BIGINT NOT NULL
);
