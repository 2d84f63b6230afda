"""Start-to-close and heartbeat timeouts, for async steps and for sync (thread pool) steps.

Timeouts are measured on the engine's clock, so these tests move time by hand
(``env.clock.advance``) once a step is where the test wants it: nothing waits in real time, and
a busy machine cannot make a timeout fire early or late. While a step runs the time-skipping
clock does not skip on its own (the engine is not idle). Task leases are measured on the same
clock, so these tests take leases longer than the time they move on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

import legato
from legato.core.events import StepRetryScheduled
from legato.testing import WorkflowEnvironment
from tests.conftest import of_type

TIMEOUT = 30.0  # seconds of engine time; never waited for in real time
LEASE = 3_600.0  # longer than any time a test moves on: no lease runs out under a running step
Waiter = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets sync steps stuck in a thread finish when the test ends."""
    event = threading.Event()
    yield event
    event.set()


KINDS = ["async", "sync"]


async def two_turns() -> None:
    """The loop fires the timers an advance made due, then runs what they woke."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def until(wait_for: Waiter, check: Callable[[], bool]) -> Awaitable[None]:
    async def holds() -> bool:
        return check()

    return wait_for(holds)


@pytest.mark.parametrize("kind", KINDS)
async def test_start_to_close_timeout_is_retried_then_fails(
    any_db_url: str, kind: str, release: threading.Event, wait_for: Waiter
) -> None:
    app = legato.App()
    runs: list[int] = []
    policy = legato.Retry(max_attempts=2, initial=1)

    if kind == "async":

        @app.step(name="slow", timeout=TIMEOUT, retry=policy)
        async def slow_on_the_loop() -> str:
            runs.append(legato.step_context().attempt)
            await asyncio.Event().wait()
            return "too late"
    else:

        @app.step(name="slow", timeout=TIMEOUT, retry=policy)
        def slow_in_a_thread() -> str:
            runs.append(legato.step_context().attempt)
            release.wait()
            return "too late"

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        try:
            await ctx.step("slow")
        except legato.StepFailed as exc:
            return [exc.error_type, exc.attempts, exc.message]
        return []

    async with WorkflowEnvironment(app, url=any_db_url, lease_seconds=LEASE) as env:
        handle = await app.start(wf)
        for attempt in (1, 2):
            await until(wait_for, lambda a=attempt: runs == list(range(1, a + 1)))  # type: ignore[misc]
            env.clock.advance(TIMEOUT)  # the attempt runs past its deadline
        error_type, attempts, message = await handle.result()
        history = await handle.history()

    assert (error_type, attempts) == ("States.Timeout", 2)
    assert f"timeout of {TIMEOUT}s" in message
    assert runs == [1, 2]
    retries = of_type(history, StepRetryScheduled)
    assert [(e.error_type, e.delay_ms) for e in retries] == [("States.Timeout", 1_000)]


@pytest.mark.parametrize("kind", KINDS)
async def test_timed_out_attempt_then_fast_attempt_succeeds(
    any_db_url: str, kind: str, release: threading.Event, wait_for: Waiter
) -> None:
    app = legato.App()
    policy = legato.Retry(max_attempts=3, initial=1)
    first: list[int] = []

    if kind == "async":

        @app.step(name="slow_once", timeout=TIMEOUT, retry=policy)
        async def slow_once_on_the_loop() -> int:
            attempt = legato.step_context().attempt
            if attempt == 1:
                first.append(attempt)
                await asyncio.Event().wait()
            return attempt
    else:

        @app.step(name="slow_once", timeout=TIMEOUT, retry=policy)
        def slow_once_in_a_thread() -> int:
            attempt = legato.step_context().attempt
            if attempt == 1:
                first.append(attempt)
                release.wait()
            return attempt

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> int:
        return await ctx.step("slow_once")  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url, lease_seconds=LEASE) as env:
        handle = await app.start(wf)
        await until(wait_for, lambda: first == [1])
        env.clock.advance(TIMEOUT)
        assert await handle.result() == 2
        history = await handle.history()
    assert [e.error_type for e in of_type(history, StepRetryScheduled)] == ["States.Timeout"]


@pytest.mark.parametrize("kind", KINDS)
async def test_step_that_stops_heartbeating_fails_with_heartbeat_timeout(
    any_db_url: str, kind: str, release: threading.Event, wait_for: Waiter
) -> None:
    app = legato.App()
    runs: list[int] = []

    if kind == "async":

        @app.step(name="beats_once", heartbeat_timeout=TIMEOUT, retry=legato.Retry.none())
        async def beats_once_on_the_loop() -> str:
            legato.heartbeat()
            runs.append(legato.step_context().attempt)
            await asyncio.Event().wait()
            return "too late"
    else:

        @app.step(name="beats_once", heartbeat_timeout=TIMEOUT, retry=legato.Retry.none())
        def beats_once_in_a_thread() -> str:
            legato.heartbeat()
            runs.append(legato.step_context().attempt)
            release.wait()
            return "too late"

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        try:
            await ctx.step("beats_once")
        except legato.StepFailed as exc:
            return [exc.error_type, exc.attempts]
        return []

    async with WorkflowEnvironment(app, url=any_db_url, lease_seconds=LEASE) as env:
        handle = await app.start(wf)
        await until(wait_for, lambda: runs == [1])  # it has sent its one heartbeat
        env.clock.advance(TIMEOUT)
        assert await handle.result() == ["States.HeartbeatTimeout", 1]
    assert runs == [1]


@pytest.mark.parametrize("kind", KINDS)
async def test_step_that_keeps_heartbeating_outlives_the_heartbeat_timeout(
    any_db_url: str, kind: str
) -> None:
    app = legato.App()
    beats = 12  # each followed by half the heartbeat timeout: six times the timeout in all
    env = WorkflowEnvironment(app, url=any_db_url, lease_seconds=LEASE)
    loop = asyncio.get_running_loop()

    # After each heartbeat, time moves on by half the timeout and the step waits until the
    # engine has looked at it: the attempt's timers fire mid-run, and find it alive.
    if kind == "async":

        @app.step(name="long", heartbeat_timeout=TIMEOUT, retry=legato.Retry.none())
        async def long_on_the_loop() -> list[float]:
            t0 = env.clock.now_ms()
            for i in range(beats):
                legato.heartbeat({"i": i})
                env.clock.advance(TIMEOUT / 2)
                await two_turns()
            return [legato.step_context().attempt, (env.clock.now_ms() - t0) / 1000]
    else:

        @app.step(name="long", heartbeat_timeout=TIMEOUT, retry=legato.Retry.none())
        def long_in_a_thread() -> list[float]:
            t0 = env.clock.now_ms()
            for i in range(beats):
                legato.heartbeat({"i": i})
                env.clock.advance(TIMEOUT / 2)
                asyncio.run_coroutine_threadsafe(two_turns(), loop).result()
            return [legato.step_context().attempt, (env.clock.now_ms() - t0) / 1000]

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[float]:
        return await ctx.step("long")  # type: ignore[no-any-return]

    async with env:
        attempt, ran_for = await (await app.start(wf)).result()
    assert attempt == 1
    assert ran_for > TIMEOUT  # it did outlive the heartbeat timeout, in one attempt


@pytest.mark.parametrize("kind", KINDS)
async def test_heartbeat_details_reach_the_next_attempt(
    any_db_url: str, kind: str, release: threading.Event, wait_for: Waiter
) -> None:
    app = legato.App()
    seen: list[tuple[int, Any]] = []
    beaten: list[int] = []
    policy = legato.Retry(max_attempts=2, initial=1)

    if kind == "async":

        @app.step(name="resumable", heartbeat_timeout=TIMEOUT, retry=policy)
        async def resumable_on_the_loop(total: int) -> dict[str, Any]:
            ctx = legato.step_context()
            seen.append((ctx.attempt, ctx.heartbeat_details))
            if ctx.attempt == 1:
                legato.heartbeat({"done": 3, "of": total})
                beaten.append(1)
                await asyncio.Event().wait()  # stuck: no more heartbeats
            return {"resumed_from": ctx.heartbeat_details}
    else:

        @app.step(name="resumable", heartbeat_timeout=TIMEOUT, retry=policy)
        def resumable_in_a_thread(total: int) -> dict[str, Any]:
            ctx = legato.step_context()
            seen.append((ctx.attempt, ctx.heartbeat_details))
            if ctx.attempt == 1:
                legato.heartbeat({"done": 3, "of": total})
                beaten.append(1)
                release.wait()
            return {"resumed_from": ctx.heartbeat_details}

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> dict[str, Any]:
        return await ctx.step("resumable", 10)  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url, lease_seconds=LEASE) as env:
        handle = await app.start(wf)
        await until(wait_for, lambda: beaten == [1])
        env.clock.advance(TIMEOUT)
        result = await handle.result()
        history = await handle.history()

    assert [e.error_type for e in of_type(history, StepRetryScheduled)] == [
        "States.HeartbeatTimeout"
    ]
    assert seen == [(1, None), (2, {"done": 3, "of": 10})]
    assert result == {"resumed_from": {"done": 3, "of": 10}}
