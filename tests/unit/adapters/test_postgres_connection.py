"""PostgreSQL driver errors as Legato's (legato.adapters.postgres.connection): only a server
that cannot be reached is ``DatabaseUnavailableError``, the one error clients retry."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from legato.adapters.postgres.connection import translate
from legato.errors import (
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseUnavailableError,
    StoreError,
)

URL = "postgresql://app:secret@db.example/orders"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (psycopg.OperationalError("server closed the connection unexpectedly"), "unavailable"),
        (PoolTimeout("couldn't get a connection after 30.00 sec"), "unavailable"),
        (ConnectionResetError("connection reset by peer"), "unavailable"),
        (psycopg.errors.AdminShutdown("terminating connection"), "unavailable"),
        (psycopg.errors.CannotConnectNow("the database system is starting up"), "unavailable"),
        (psycopg.errors.TooManyConnections("too many clients already"), "unavailable"),
        (psycopg.errors.LockNotAvailable("could not obtain lock"), "locked"),
        (psycopg.errors.DeadlockDetected("deadlock detected"), "locked"),
        (psycopg.errors.ReadOnlySqlTransaction("read-only transaction"), "read-only"),
        (psycopg.errors.QueryCanceled("canceling statement due to timeout"), "other"),
        (psycopg.errors.UndefinedTable('relation "executions" does not exist'), "other"),
        (psycopg.errors.UniqueViolation("duplicate key"), "other"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value,
)
def test_only_an_unreachable_server_is_unavailable(error: BaseException, kind: str) -> None:
    translated = translate(error, URL)
    expected = {
        "unavailable": DatabaseUnavailableError,
        "locked": DatabaseLockedError,
        "read-only": DatabaseReadOnlyError,
        "other": StoreError,
    }[kind]
    assert type(translated) is expected
    assert "app:***@db.example" in str(translated) and "secret" not in str(translated)
    if kind == "unavailable":
        assert str(translated).startswith("cannot reach database")
