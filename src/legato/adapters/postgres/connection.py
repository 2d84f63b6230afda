"""PostgreSQL URLs and driver errors, translated at the adapter's edge."""

from __future__ import annotations

import psycopg

from legato.errors import (
    ConfigurationError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseUnavailableError,
    StoreError,
)

# SQLSTATEs that say the server, not the statement, is the problem: it is shutting down, has
# crashed, is starting up, or has no connection to spare. Class 08 is any connection exception.
_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300"})


def check_url(url: str) -> str:
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigurationError(f"not a PostgreSQL URL: {url!r}")
    return url


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, userinfo = head.partition("//")
    return f"{scheme}//{userinfo.split(':', 1)[0]}:***@{tail}"


def translate(exc: BaseException, url: str) -> StoreError:
    where = redact(url)
    if unavailable(exc):
        return DatabaseUnavailableError(f"cannot reach database {where}: {str(exc).strip()}")
    if isinstance(
        exc, psycopg.errors.ReadOnlySqlTransaction | psycopg.errors.InsufficientPrivilege
    ):
        return DatabaseReadOnlyError(f"database {where} cannot be written ({exc})")
    if isinstance(exc, psycopg.errors.LockNotAvailable | psycopg.errors.DeadlockDetected):
        return DatabaseLockedError(f"database {where} is locked ({exc})")
    return StoreError(f"database {where}: {str(exc).strip()}")


def unavailable(exc: BaseException) -> bool:
    """Whether the error says the server cannot be reached now (worth retrying), not that the
    statement is wrong: a connection that failed or was cut (no SQLSTATE: the client noticed),
    a server shutting down or starting up, a pool that found no connection in time."""
    if isinstance(exc, OSError):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _UNAVAILABLE
