"""A fresh PostgreSQL database per benchmark run, created and dropped by the run itself.

Every benchmark that runs on PostgreSQL takes the URL of a server (any database on it that the
user may connect to, e.g. postgresql://postgres@127.0.0.1:5432/test) and measures on a new
database ``legato_bench_<random>`` there, so no run sees another run's rows, bloat or cached
plans, and a crashed run leaves nothing that changes the next one's numbers. The database is
dropped WITH (FORCE) at the end even if the engine under test still holds connections.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"
PREFIX = "legato_bench_"


def server_url() -> str:
    """$LEGATO_BENCH_POSTGRES if set, so CI or a developer can point every bench elsewhere."""
    return os.environ.get("LEGATO_BENCH_POSTGRES") or DEFAULT_SERVER_URL


def is_postgres(url: str | None) -> bool:
    """True for the URL schemes both Legato and psycopg accept."""
    return url is not None and url.startswith(("postgresql://", "postgres://"))


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database (query string, if any, kept)."""
    head, sep, query = url.partition("?")
    base, _, _ = head.rpartition("/")
    return f"{base}/{database}{sep}{query}"


def _admin(url: str, statement: sql.Composed) -> None:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """Create ``legato_bench_<random>`` on the server of ``url``, yield its URL, drop it."""
    name = f"{PREFIX}{uuid.uuid4().hex[:12]}"
    _admin(url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"[pgdb] created database {name}", file=sys.stderr, flush=True)
    try:
        yield with_database(url, name)
    finally:
        _admin(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        print(f"[pgdb] dropped database {name}", file=sys.stderr, flush=True)
