ALTER TABLE executions ADD COLUMN partition INTEGER NOT NULL DEFAULT 0;
CREATE INDEX executions_by_partition ON executions (partition, status);

CREATE TABLE partitions (
    id INTEGER PRIMARY KEY,
    owner TEXT,
    lease_expires_at INTEGER NOT NULL DEFAULT 0
);
WITH RECURSIVE n(id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM n WHERE id < 63)
INSERT INTO partitions (id) SELECT id FROM n;

CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    heartbeat_at INTEGER NOT NULL
);
