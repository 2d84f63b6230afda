"""Which store serves a database URL."""

from __future__ import annotations

from legato.adapters.sqlite import SqliteStore
from legato.errors import ConfigurationError
from legato.ports.store import Store

DEFAULT_URL = "sqlite:///.legato/legato.db"


def open_store(url: str) -> Store:
    if url.startswith("sqlite:"):
        return SqliteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from legato.adapters.postgres import PostgresStore  # psycopg loads only when used

        return PostgresStore(url)
    raise ConfigurationError(
        f"unsupported database URL {url!r}: use sqlite:///path/to/file.db or postgresql://..."
    )
