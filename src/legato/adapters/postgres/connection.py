"""PostgreSQL URLs and driver errors, translated at the adapter's edge."""

from __future__ import annotations

import psycopg

from legato.errors import (
    ConfigurationError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    StoreError,
)


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
    if isinstance(
        exc, psycopg.errors.ReadOnlySqlTransaction | psycopg.errors.InsufficientPrivilege
    ):
        return DatabaseReadOnlyError(f"database {where} cannot be written ({exc})")
    if isinstance(exc, psycopg.errors.LockNotAvailable | psycopg.errors.DeadlockDetected):
        return DatabaseLockedError(f"database {where} is locked ({exc})")
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(f"cannot reach database {where}: {str(exc).strip()}")
    return StoreError(f"database {where}: {str(exc).strip()}")
