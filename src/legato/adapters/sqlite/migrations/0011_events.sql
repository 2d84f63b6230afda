-- Event triggers. A subscription maps an event type (and an optional JSONata filter) to a
-- workflow, with an optional JSONata transform making its input.
CREATE TABLE subscriptions (
    name TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    workflow TEXT NOT NULL,
    version TEXT,
    filter TEXT,
    transform TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX subscriptions_by_type ON subscriptions (event_type);

-- Every event received once: the key is the durable dedupe (a redelivered event, the same
-- event sent twice, starts nothing more). data is JSON text, execution_ids a JSON array of the
-- executions it started, written with it in the same transaction.
CREATE TABLE events (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT,
    time TEXT,
    data TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    via TEXT NOT NULL,
    execution_ids TEXT NOT NULL,
    PRIMARY KEY (source, id)
);

-- What could not be acted on, with the reason: a body that is not an event, or an event whose
-- subscription's filter or transform failed (subscription, event_source and event_id say which).
CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    via TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    subscription TEXT,
    event_source TEXT,
    event_id TEXT
);
CREATE INDEX dead_letters_newest ON dead_letters (received_at, id);
