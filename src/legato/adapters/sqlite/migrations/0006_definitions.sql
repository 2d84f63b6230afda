-- State machine definitions, versioned and content-hashed: a version never changes once stored
-- (executions pin the version they started with). definition is the canonical JSON text
-- (sorted keys, compact), content_hash its SHA-256, and number is the version as an integer when
-- it is one (the next version is 1 + the highest), else NULL.
CREATE TABLE definitions (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    number INTEGER,
    content_hash TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
-- Which version of a name has this content (a push of the same content again, legato run).
CREATE INDEX definitions_by_hash ON definitions (name, content_hash);
