"""A graceful stop of an engine (``app.shutdown``, the end of ``async with app``), on SQLite and
PostgreSQL: running steps get the grace period to finish and their outcomes are committed
before the engine stops; a step still running after it is cancelled, its outcome not recorded
and its lease given back, so the next engine runs it at once. A worker given a step it lacks
gives it back without an outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import pytest

import legato
from legato.client import open_store
from legato.core.events import ExecutionStarted, Status, StepCompleted
from legato.core.partitions import partition_of
from legato.core.transition import ExecutionUpdate, NewExecution, Task, Transition
from legato.engine.clock import SystemClock
from legato.engine.registry import Registry
from legato.engine.worker import Worker
from legato.ports.workers import WaitingStep
from tests.conftest import of_type
from tests.rows import task_row

Waiter = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]


class Steps:
    """A two-step workflow whose first step waits for the test; every run is logged."""

    def __init__(self, url: str, grace: float, *, sync: bool = False) -> None:
        self.app = legato.App(url, grace_seconds=grace)
        self.runs: list[tuple[str, int]] = []  # (step, attempt), once each attempt starts
        self.finished: list[str] = []  # steps that ran to their end (their side effect)
        self.cancelled: list[int] = []
        self.go = asyncio.Event()
        self.go_thread = threading.Event()

        async def first_async(tag: str) -> str:
            self.runs.append(("first", legato.step_context().attempt))
            try:
                await self.go.wait()
            except asyncio.CancelledError:
                self.cancelled.append(legato.step_context().attempt)
                raise
            self.finished.append("first")
            return f"{tag}-1"

        def first_sync(tag: str) -> str:
            attempt = legato.step_context().attempt
            self.runs.append(("first", attempt))
            self.go_thread.wait()
            self.finished.append("first")
            return f"{tag}-1-attempt-{attempt}"

        self.app.step(name="first")(first_sync if sync else first_async)

        @self.app.step(name="second")
        async def second(x: str) -> str:
            self.runs.append(("second", legato.step_context().attempt))
            self.finished.append("second")
            return f"{x}-2"

        @self.app.workflow(name="pair")
        async def pair(ctx: legato.Context, tag: str) -> str:
            return await ctx.step(second, await ctx.step("first", tag))  # type: ignore[no-any-return]

    def started(self, step: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return any(name == step for name, _ in self.runs)

        return check


def _worker(app: legato.App) -> Worker:
    engine = app._engine
    assert engine is not None and engine.worker is not None
    return engine.worker


async def test_a_stop_lets_the_running_step_finish_and_commits_its_outcome(
    any_db_url: str, wait_for: Waiter
) -> None:
    steps = Steps(any_db_url, grace=60)
    app = steps.app
    await app.start_engine()
    handle = await app.start("pair", "job", id="pair-1")
    await wait_for(steps.started("first"))
    stopping = asyncio.ensure_future(app.shutdown())
    worker = _worker(app)

    async def draining() -> bool:
        return worker.draining

    await wait_for(draining)
    steps.go.set()  # the step finishes within the grace period
    await stopping

    # committed before the engine stopped: the next step is scheduled, for any worker
    history = await handle.history()
    assert [e.result for e in of_type(history, StepCompleted)] == ['"job-1"']
    row = task_row(any_db_url, "pair-1:2")
    assert row is not None and row.lease_owner is None and row.state == "ready"

    await app.start_engine()  # the next engine runs only what is left
    try:
        assert await handle.result(timeout=20) == "job-1-2"
    finally:
        await app.shutdown()
    assert steps.runs == [("first", 1), ("second", 1)]
    assert steps.finished == ["first", "second"]


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_a_step_past_the_grace_period_is_cancelled_and_its_lease_given_back(
    any_db_url: str, sync: bool, wait_for: Waiter
) -> None:
    steps = Steps(any_db_url, grace=0.2, sync=sync)
    app = steps.app
    engine = await app.start_engine()
    handle = await app.start("pair", "job", id="pair-1")
    await wait_for(steps.started("first"))
    await app.shutdown()  # the step never finishes by itself

    assert not of_type(await handle.history(), StepCompleted)  # no outcome recorded
    row = task_row(any_db_url, "pair-1:1")
    assert row is not None
    # given back (not left to its lease): any worker claims it at once, as attempt 2
    assert (row.state, row.attempt, row.lease_owner, row.outcome) == ("ready", 1, None, None)
    if sync:  # a thread cannot be stopped: it runs on, and what it returns is dropped
        assert engine.threads_left == 1
        steps.go_thread.set()
    else:
        assert steps.cancelled == [1]

    steps.go.set()
    await app.start_engine()
    try:
        result = await handle.result(timeout=20)
    finally:
        await app.shutdown()
    assert result == ("job-1-attempt-2-2" if sync else "job-1-2")
    assert [attempt for name, attempt in steps.runs if name == "first"] == [1, 2]
    completed = of_type(await handle.history(), StepCompleted)
    assert [(e.ref, e.attempt) for e in completed] == [(1, 2), (2, 1)]


async def test_a_worker_given_a_step_it_lacks_gives_it_back_without_an_outcome(
    any_db_url: str, wait_for: Waiter
) -> None:
    store = open_store(any_db_url)
    await store.open()
    try:
        task = Task("x:1", "x", 1, "ghost", "default", "[[], {}]", 0, 1, "w", 2**62)
        started = ExecutionStarted(1, "wf", "[[], {}]", "1")
        tr = Transition(
            "x", 0, 1, (started,), ExecutionUpdate(Status.RUNNING, "ghost"), task_inserts=(task,)
        )
        new = NewExecution("x", "wf", "1", "[[], {}]", 1, tr, partition_of("x"))
        await store.start_execution(new)
        worker = Worker(
            store, Registry(), SystemClock(), owner="w", concurrency=1, lease_ms=30_000,
            queues=["default"],
        )  # fmt: skip
        worker.run(task)  # as if its orchestrator had leased it to this process

        async def given_back() -> bool:
            row = task_row(any_db_url, "x:1")
            return row is not None and row.lease_owner is None

        await wait_for(given_back)
        row = task_row(any_db_url, "x:1")
        assert row is not None and (row.state, row.outcome) == ("ready", None)
        execution = await store.load_execution("x")
        assert execution is not None and execution.status == Status.RUNNING  # not failed
        assert await store.waiting_steps("x", SystemClock().now_ms()) == [
            WaitingStep("x:1", "ghost", "default")
        ]
        assert worker.active == 0
    finally:
        await store.close()
