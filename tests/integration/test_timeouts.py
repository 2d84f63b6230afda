"""Start-to-close and heartbeat timeouts, for async steps and for sync (thread pool) steps.

These use short real sleeps (timeouts of 0.2 s): the timeouts are measured on the monotonic
clock while a step runs, which the time-skipping clock never skips.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import of_type

import legato
from legato.core.events import StepRetryScheduled
from legato.testing import WorkflowEnvironment

TIMEOUT = 0.2


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets sync steps stuck in a thread finish when the test ends."""
    event = threading.Event()
    yield event
    event.set()


KINDS = ["async", "sync"]


@pytest.mark.parametrize("kind", KINDS)
async def test_start_to_close_timeout_is_retried_then_fails(
    any_db_url: str, kind: str, release: threading.Event
) -> None:
    app = legato.App()
    runs: list[int] = []
    policy = legato.Retry(max_attempts=2, initial=1)

    if kind == "async":

        @app.step(name="slow", timeout=TIMEOUT, retry=policy)
        async def slow() -> str:
            runs.append(legato.step_context().attempt)
            await asyncio.sleep(5)
            return "too late"
    else:

        @app.step(name="slow", timeout=TIMEOUT, retry=policy)
        def slow() -> str:
            runs.append(legato.step_context().attempt)
            release.wait(5)
            return "too late"

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        try:
            await ctx.step(slow)
        except legato.StepFailed as exc:
            return [exc.error_type, exc.attempts, exc.message]
        return []

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        error_type, attempts, message = await handle.result()
        history = await handle.history()

    assert (error_type, attempts) == ("States.Timeout", 2)
    assert "timeout of 0.2s" in message
    assert runs == [1, 2]
    retries = of_type(history, StepRetryScheduled)
    assert [(e.error_type, e.delay_ms) for e in retries] == [("States.Timeout", 1_000)]


@pytest.mark.parametrize("kind", KINDS)
async def test_timed_out_attempt_then_fast_attempt_succeeds(
    any_db_url: str, kind: str, release: threading.Event
) -> None:
    app = legato.App()
    policy = legato.Retry(max_attempts=3, initial=1)

    if kind == "async":

        @app.step(name="slow_once", timeout=TIMEOUT, retry=policy)
        async def slow_once() -> int:
            attempt = legato.step_context().attempt
            if attempt == 1:
                await asyncio.sleep(5)
            return attempt
    else:

        @app.step(name="slow_once", timeout=TIMEOUT, retry=policy)
        def slow_once() -> int:
            attempt = legato.step_context().attempt
            if attempt == 1:
                release.wait(5)
            return attempt

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> int:
        return await ctx.step(slow_once)  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        assert await handle.result() == 2
        history = await handle.history()
    assert [e.error_type for e in of_type(history, StepRetryScheduled)] == ["States.Timeout"]


@pytest.mark.parametrize("kind", KINDS)
async def test_step_that_stops_heartbeating_fails_with_heartbeat_timeout(
    any_db_url: str, kind: str, release: threading.Event
) -> None:
    app = legato.App()
    runs: list[int] = []

    if kind == "async":

        @app.step(name="beats_once", heartbeat_timeout=TIMEOUT, retry=legato.Retry.none())
        async def beats_once() -> str:
            runs.append(legato.step_context().attempt)
            legato.heartbeat()
            await asyncio.sleep(5)
            return "too late"
    else:

        @app.step(name="beats_once", heartbeat_timeout=TIMEOUT, retry=legato.Retry.none())
        def beats_once() -> str:
            runs.append(legato.step_context().attempt)
            legato.heartbeat()
            release.wait(5)
            return "too late"

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        try:
            await ctx.step(beats_once)
        except legato.StepFailed as exc:
            return [exc.error_type, exc.attempts]
        return []

    async with WorkflowEnvironment(app, url=any_db_url):
        assert await (await app.start(wf)).result() == ["States.HeartbeatTimeout", 1]
    assert runs == [1]


@pytest.mark.parametrize("kind", KINDS)
async def test_step_that_keeps_heartbeating_outlives_the_heartbeat_timeout(
    any_db_url: str, kind: str
) -> None:
    app = legato.App()
    beats = 12  # 12 x 0.05 s = 0.6 s, three times the heartbeat timeout

    if kind == "async":

        @app.step(name="long", heartbeat_timeout=TIMEOUT, retry=legato.Retry.none())
        async def long() -> list[float]:
            t0 = time.monotonic()
            for i in range(beats):
                legato.heartbeat({"i": i})
                await asyncio.sleep(0.05)
            return [legato.step_context().attempt, time.monotonic() - t0]
    else:

        @app.step(name="long", heartbeat_timeout=TIMEOUT, retry=legato.Retry.none())
        def long() -> list[float]:
            t0 = time.monotonic()
            for i in range(beats):
                legato.heartbeat({"i": i})
                time.sleep(0.05)
            return [legato.step_context().attempt, time.monotonic() - t0]

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[float]:
        return await ctx.step(long)  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url):
        attempt, ran_for = await (await app.start(wf)).result()
    assert attempt == 1
    assert ran_for > TIMEOUT  # it did outlive the heartbeat timeout, in one attempt


@pytest.mark.parametrize("kind", KINDS)
async def test_heartbeat_details_reach_the_next_attempt(
    any_db_url: str, kind: str, release: threading.Event
) -> None:
    app = legato.App()
    seen: list[tuple[int, Any]] = []
    policy = legato.Retry(max_attempts=2, initial=1)

    if kind == "async":

        @app.step(name="resumable", heartbeat_timeout=TIMEOUT, retry=policy)
        async def resumable(total: int) -> dict[str, Any]:
            ctx = legato.step_context()
            seen.append((ctx.attempt, ctx.heartbeat_details))
            if ctx.attempt == 1:
                legato.heartbeat({"done": 3, "of": total})
                await asyncio.sleep(5)  # stuck: no more heartbeats
            return {"resumed_from": ctx.heartbeat_details}
    else:

        @app.step(name="resumable", heartbeat_timeout=TIMEOUT, retry=policy)
        def resumable(total: int) -> dict[str, Any]:
            ctx = legato.step_context()
            seen.append((ctx.attempt, ctx.heartbeat_details))
            if ctx.attempt == 1:
                legato.heartbeat({"done": 3, "of": total})
                release.wait(5)
            return {"resumed_from": ctx.heartbeat_details}

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> dict[str, Any]:
        return await ctx.step(resumable, 10)  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        result = await handle.result()
        history = await handle.history()

    assert [e.error_type for e in of_type(history, StepRetryScheduled)] == [
        "States.HeartbeatTimeout"
    ]
    assert seen == [(1, None), (2, {"done": 3, "of": 10})]
    assert result == {"resumed_from": {"done": 3, "of": 10}}
