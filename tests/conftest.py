"""Shared fixtures: a database URL in the test's tmp_path, and polling helpers.

Polling waits for a *state* (a status, an event in the history); it never asserts on how long
something took.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

import legato
from legato.core.events import Event, EventType

Waiter = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]
E = TypeVar("E")


def of_type(history: Sequence[Event], kind: type[E]) -> list[E]:
    """The events of one type, typed as such."""
    return [e for e in history if isinstance(e, kind)]


pytest_plugins = ["tests.postgres"]


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind: the same test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'legato.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "legato.db"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


async def poll(check: Callable[[], Awaitable[bool]], *, limit: float = 20.0) -> None:
    """Re-check until true; fails the test (instead of hanging) if it never becomes true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await check():
        if loop.time() > deadline:
            pytest.fail(f"condition {check!r} never became true")
        await asyncio.sleep(0.01)


@pytest.fixture
def wait_for() -> Waiter:
    return poll


@pytest.fixture
def wait_status() -> Callable[[legato.Handle, legato.Status], Awaitable[legato.ExecutionStatus]]:
    async def wait(handle: legato.Handle, status: legato.Status) -> legato.ExecutionStatus:
        async def reached() -> bool:
            return (await handle.status()).status == status

        await poll(reached)
        return await handle.status()

    return wait


@pytest.fixture
def wait_event() -> Callable[[legato.Handle, EventType], Awaitable[list[Event]]]:
    """Waits until the history holds an event of that type; returns the history."""

    async def wait(handle: legato.Handle, kind: EventType) -> list[Event]:
        async def present() -> bool:
            return any(e.type == kind for e in await handle.history())

        await poll(present)
        return await handle.history()

    return wait
