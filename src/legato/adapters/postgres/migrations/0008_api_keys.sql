-- API keys: every request to an API bound off loopback (or run with --require-keys) carries
-- one. Only the key's SHA-256 is stored, never the key: a copy of the database lets nobody in.
-- A revoked key keeps its row (revoked_at), so `legato keys list` still names it.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
