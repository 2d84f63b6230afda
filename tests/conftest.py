"""Shared fixtures: a database URL in the test's tmp_path, polling helpers, and the seed and
subprocesses of the tests that kill processes or draw random numbers.

Polling waits for a *state* (a status, an event in the history); it never asserts on how long
something took.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
import structlog
from hypothesis import HealthCheck, settings

import legato
import legato.testing
from legato.core.events import Event, EventType

# A legato dev / server a test starts serves no HTTP API unless the test asks for one
# (``tests.api_process.API_ON``: a free port of its own, so tests side by side never fight
# over the default one); the engine tests do not pay for FastAPI in every process.
os.environ.setdefault("LEGATO_HTTP", "off")
from tests.processes import SEED_VARIABLE, Processes, seed_from_environment

Waiter = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]
StatusWaiter = Callable[[legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]]
E = TypeVar("E")


def of_type(history: Sequence[Event], kind: type[E]) -> list[E]:
    """The events of one type, typed as such."""
    return [e for e in history if isinstance(e, kind)]


pytest_plugins = ["tests.postgres", "tests.aws_emulator"]

# Property tests: no deadline per example and no "too slow" health check (on a busy machine any
# example can be slow, and that says nothing about the property); a failure prints the blob
# that replays it (@reproduce_failure).
settings.register_profile(
    "legato", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("legato")

SEED = pytest.StashKey[int]()
PROCESSES = pytest.StashKey[Processes]()


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """The test's random seed: ``LEGATO_TEST_SEED`` if set, else a fresh one. Printed, and
    named in the report if the test fails, so the run can be replayed."""
    value = seed_from_environment()
    request.node.stash[SEED] = value
    print(f"{SEED_VARIABLE}={value}")
    return value


@pytest.fixture
def processes(request: pytest.FixtureRequest, tmp_path: Path, seed: int) -> Iterator[Processes]:
    """Subprocesses that log to ``tmp_path/logs`` and get the seed; their logs are printed if
    the test fails, and whatever still runs is stopped when it ends."""
    started = Processes(tmp_path / "logs", seed)
    request.node.stash[PROCESSES] = started
    try:
        yield started
    finally:
        started.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        if SEED in item.stash:
            value = item.stash[SEED]
            replay = f"{SEED_VARIABLE}={value} pytest '{item.nodeid}'"
            report.sections.append(("seed", f"{SEED_VARIABLE}={value}\nreplay: {replay}"))
        if PROCESSES in item.stash:
            report.sections.append(("subprocess logs", item.stash[PROCESSES].report()))
    return report


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
def wait_status() -> Callable[
    [legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]
]:
    async def wait(handle: legato.Handle[Any], status: legato.Status) -> legato.ExecutionStatus:
        async def reached() -> bool:
            return (await handle.status()).status == status

        await poll(reached)
        return await handle.status()

    return wait


@pytest.fixture
def wait_event() -> Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]]:
    """Waits until the history holds an event of that type; returns the history."""

    async def wait(handle: legato.Handle[Any], kind: EventType) -> list[Event]:
        async def present() -> bool:
            return any(e.type == kind for e in await handle.history())

        await poll(present)
        return await handle.history()

    return wait


def _legato_loggers() -> dict[str, logging.Logger]:
    return {
        name: lg
        for name, lg in logging.root.manager.loggerDict.items()
        if isinstance(lg, logging.Logger) and (name == "legato" or name.startswith("legato."))
    }


@pytest.fixture(autouse=True)
def _logging_as_a_fresh_process_has_it() -> Iterator[None]:
    """A command run in this process (typer's CliRunner) configures logging as its own process
    would (``legato.cli.logs``): a root handler on a stream closed once it returns, and the
    ``legato`` loggers' levels. Both are put back after each test, so the next one logs as a
    fresh process does."""
    root = logging.getLogger()
    root_level = root.level
    levels = {name: lg.level for name, lg in _legato_loggers().items()}
    yield
    root.setLevel(root_level)
    for handler in list(root.handlers):
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter):
            root.removeHandler(handler)
    for name, lg in _legato_loggers().items():
        lg.setLevel(levels.get(name, logging.NOTSET))
