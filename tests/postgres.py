"""PostgreSQL for tests: one migrated template database per run, cloned for each test (fast and
isolated). Without a reachable server the PostgreSQL cases skip with a message, unless
LEGATO_REQUIRE_SERVICES=1, which makes them fail."""

from __future__ import annotations

import asyncio
import functools
import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import psycopg
import pytest

from legato.adapters.postgres import PostgresStore

ADMIN_URL = os.environ.get("LEGATO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("LEGATO_REQUIRE_SERVICES") == "1"
T = TypeVar("T")
RESTART_PATIENCE = 60.0  # seconds a restarting server may take to accept connections again
RESTARTING = ("shutting down", "starting up", "not yet accepting connections")


def url_for(database: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:  # a server that is restarting (not one that is absent) is waited for
        when_up(functools.partial(_admin, "SELECT 1"), only_if_restarting=True)
    except psycopg.OperationalError as exc:
        why = str(exc).strip()
        if REQUIRED:  # CI: the PostgreSQL half of the suite is a requirement, never skipped
            pytest.fail(
                f"PostgreSQL is not reachable at {ADMIN_URL} ({why}) and "
                "LEGATO_REQUIRE_SERVICES=1: start it (see .ci/run) to run the PostgreSQL cases"
            )
        pytest.skip(
            reason=f"PostgreSQL is not reachable at {ADMIN_URL} ({why}); start it, or point "
            "LEGATO_TEST_POSTGRES at one, to run the PostgreSQL cases (LEGATO_REQUIRE_SERVICES=1 "
            "makes this a failure, as in CI)"
        )
    name = f"legato_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    when_up(functools.partial(_admin, f'CREATE DATABASE "{name}"'))

    async def migrate() -> None:
        store = PostgresStore(url_for(name))
        await store.migrate()
        await store.close()

    asyncio.run(migrate())
    yield name
    drop(name)


class _Clones:
    """Fresh databases cloned from the template a few tests ahead of need, dropped behind.

    ``CREATE DATABASE ... TEMPLATE`` waits about 0.2 s on the server however small the
    template (and a drop ~0.1 s while clones run), but several run side by side: done in
    threads, off the tests' path, they cost the suite little instead of ~30 s."""

    def __init__(self, template: str, ahead: int = 4) -> None:
        self.template = template
        self._threads = ThreadPoolExecutor(ahead, thread_name_prefix="pg-clone")
        self._ready = deque(self._threads.submit(self._clone) for _ in range(ahead))
        self._dropping: dict[str, Future[None]] = {}

    def _clone(self) -> str:
        name = f"legato_t_{uuid.uuid4().hex[:12]}"
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def take(self) -> str:
        ready = self._ready.popleft()
        self._ready.append(self._threads.submit(self._clone))
        if ready.exception() is None:
            return ready.result()
        # cloned ahead while the server was away (test_postgres_restart, or another process,
        # restarting the shared cluster): clone now, once it is back
        return when_up(self._clone)

    def give_back(self, name: str) -> None:
        self._dropping[name] = self._threads.submit(drop, name)

    def close(self) -> None:
        """Drops what is left; a drop that failed in the background (say, the server was
        restarting) is tried again here once the server is back, and fails the session if
        the server does not come back."""
        for ready in self._ready:
            if not ready.cancel() and ready.exception() is None:
                self.give_back(ready.result())
        self._threads.shutdown()
        for name, dropped in self._dropping.items():
            if dropped.exception() is not None:
                when_up(functools.partial(drop, name))


def when_up(action: Callable[[], T], *, only_if_restarting: bool = False) -> T:
    """``action()``, tried again while the server restarts (for up to RESTART_PATIENCE s).
    ``only_if_restarting``: give up at once on an error that does not say so (say, nothing
    listens on the port: no server at all, or one between its stop and its start)."""
    deadline = time.monotonic() + RESTART_PATIENCE
    while True:
        try:
            return action()
        except psycopg.OperationalError as exc:
            restarting = any(state in str(exc) for state in RESTARTING)
            if time.monotonic() > deadline or (only_if_restarting and not restarting):
                raise
            time.sleep(0.2)


def drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _pg_clones(pg_template: str) -> Iterator[_Clones]:
    clones = _Clones(pg_template)
    yield clones
    clones.close()


@pytest.fixture
def pg_url(_pg_clones: _Clones) -> Iterator[str]:
    """A fresh database, cloned from the migrated template, for one test."""
    name = _pg_clones.take()
    yield url_for(name)
    _pg_clones.give_back(name)
