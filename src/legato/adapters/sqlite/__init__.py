"""The embedded SQLite store: WAL, one group-committing writer thread, readers on the side."""

from legato.adapters.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
