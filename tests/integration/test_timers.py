"""Durable timers: exact virtual schedules, and surviving a restart on a clock that does not
skip. Time moves only when skipped or moved by the test, so due times are checked exactly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import legato
from legato.core.events import Event, EventType, TimerFired, TimerStarted
from legato.testing import WorkflowEnvironment
from tests.clocks import ManualClock
from tests.conftest import of_type

T0 = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("duration", "ms"),
    [
        (1, 1_000),
        (0.25, 250),
        (3600, 3_600_000),
        (timedelta(days=30), 30 * 86_400_000),
        (timedelta(minutes=90, milliseconds=7), 5_400_007),
    ],
)
async def test_sleep_fires_at_its_virtual_due_time(
    any_db_url: str, duration: float | timedelta, ms: int
) -> None:
    app = legato.App()

    @app.workflow(name="sleeper")
    async def sleeper(ctx: legato.Context) -> list[str]:
        before = ctx.now()
        await ctx.sleep(duration)
        return [before.isoformat(), ctx.now().isoformat()]

    async with WorkflowEnvironment(app, url=any_db_url, start=T0, still_time=True):
        handle = await app.start(sleeper)
        before, after = await handle.result()
        history = await handle.history()

    started = of_type(history, TimerStarted)[0]
    fired = of_type(history, TimerFired)[0]
    assert started.fire_at == started.ts + ms
    assert 0 <= fired.ts - (started.ts + ms) < 500
    assert fired.ref == started.ref == 1
    elapsed = datetime.fromisoformat(after) - datetime.fromisoformat(before)
    assert timedelta(milliseconds=ms) <= elapsed < timedelta(milliseconds=ms + 500)
    assert datetime.fromisoformat(before) - T0 < timedelta(seconds=1)


@pytest.mark.parametrize("duration", [0, -5, timedelta(0)])
async def test_non_positive_sleep_returns_at_once_without_a_timer(
    any_db_url: str,
    duration: float | timedelta,
) -> None:
    app = legato.App()

    @app.workflow(name="sleeper")
    async def sleeper(ctx: legato.Context) -> str:
        await ctx.sleep(duration)
        return "awake"

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(sleeper)
        assert await handle.result() == "awake"
        types = [e.type for e in await handle.history()]
    assert types == [EventType.EXECUTION_STARTED, EventType.EXECUTION_COMPLETED]


async def test_concurrent_sleeps_fire_in_due_order(any_db_url: str) -> None:
    app = legato.App()

    @app.step(name="mark")
    async def mark(label: str) -> str:
        return label

    @app.workflow(name="race")
    async def race(ctx: legato.Context) -> list[Any]:
        order: list[str] = []

        async def after(seconds: int, label: str) -> None:
            await ctx.sleep(seconds)
            order.append(await ctx.step(mark, label))

        await ctx.gather(after(300, "slow"), after(60, "fast"), after(120, "mid"))
        return order

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(race)
        assert await handle.result() == ["fast", "mid", "slow"]
        history = await handle.history()
    fired = of_type(history, TimerFired)
    assert [e.ref for e in fired] == [2, 3, 1]
    assert fired[0].ts < fired[1].ts < fired[2].ts


@pytest.mark.parametrize("overdue", [False, True], ids=["restart-before-due", "restart-after-due"])
async def test_timer_survives_a_restart_on_the_wall_clock(
    any_db_url: str,
    overdue: bool,
    wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]],
    wait_for: Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]],
) -> None:
    def build(clock: ManualClock) -> tuple[legato.App, Any]:
        app = legato.App(any_db_url, clock=clock)

        @app.workflow(name="nap")
        async def nap(ctx: legato.Context) -> int:
            await ctx.sleep(1.5)
            return int(ctx.now().timestamp() * 1000)

        return app, nap

    first = ManualClock()  # no skipping: time moves when the test moves it
    app, nap = build(first)
    async with app:
        handle = await app.start(nap, id="nap-1")
        started = of_type(await wait_event(handle, EventType.TIMER_STARTED), TimerStarted)[0]
    fire_at = started.fire_at
    clock = ManualClock(first.now_ms())  # the new process's: the same time, no timers yet
    if overdue:  # nobody is running while the timer comes due
        clock.advance((fire_at + 1 - clock.now_ms()) / 1000)
    # the first app is gone mid-sleep; a new one on the same database finishes the execution
    app, _ = build(clock)
    async with app:
        if not overdue:  # the new app sets the timer from the database; then it comes due

            async def timer_set() -> bool:
                return clock.pending() == [fire_at]

            await wait_for(timer_set)
            clock.advance((fire_at - clock.now_ms()) / 1000)
        woke_at = await app.get_handle("nap-1").result(timeout=20)
        history = await app.get_handle("nap-1").history()

    started = of_type(history, TimerStarted)[0]
    fired = of_type(history, TimerFired)[0]
    due = started.fire_at
    assert due == started.ts + 1_500
    assert 0 <= fired.ts - due <= 1_000
    assert woke_at == fired.ts
    assert [e.type for e in history] == [
        EventType.EXECUTION_STARTED,
        EventType.TIMER_STARTED,
        EventType.TIMER_FIRED,
        EventType.EXECUTION_COMPLETED,
    ]
