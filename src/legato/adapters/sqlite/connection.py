"""Opening SQLite files the way Legato needs them, and turning driver errors into Legato's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from legato.errors import (
    ConfigurationError,
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    StoreError,
)

BUSY_TIMEOUT_MS = 5000


def path_from_url(url: str) -> Path:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ConfigurationError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file.db)")
    rest = url[len(prefix) :]
    if not rest or rest == ":memory:":
        raise ConfigurationError(
            f"{url!r}: Legato needs a database file (several connections share it), not :memory:"
        )
    return Path(rest)


def translate(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseLockedError(
            f"database {path} is locked by another process and stayed locked for "
            f"{BUSY_TIMEOUT_MS / 1000:.0f}s ({exc})"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return DatabaseReadOnlyError(
            f"database {path} cannot be written: check the file and its folder are writable ({exc})"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return DatabaseCorruptError(f"database {path} is not a valid SQLite database ({exc})")
    return StoreError(f"database {path}: {exc}")


def connect(path: Path, *, writer: bool) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA schema_version").fetchone()  # fails on a file that is not a database
        if writer:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise DatabaseReadOnlyError(
                    f"database {path} could not switch to WAL mode ({mode})"
                )
        # FULL: a committed transition survives power loss, not only a process crash.
        conn.execute("PRAGMA synchronous = FULL")
        return conn
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
