"""Changed workflow code over a recorded history: the engine suspends, the replayer reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import legato
from legato.client import open_store
from legato.core.event_rows import to_row
from legato.core.events import (
    Event,
    EventType,
    ExecutionSuspended,
    TimerFired,
    TimerStarted,
)
from legato.core.export import export_history
from legato.engine.clock import SkippingClock
from legato.testing import replay
from tests.conftest import of_type


def original_app(url: str) -> tuple[legato.App, Callable[..., Any], list[str]]:
    """``orders`` v1: reserve, sleep an hour, charge."""
    app = legato.App(url)
    runs: list[str] = []

    @app.step(name="reserve")
    async def reserve(n: int) -> str:
        runs.append("reserve")
        return f"r-{n}"

    @app.step(name="charge")
    async def charge(r: str) -> str:
        runs.append("charge")
        return f"charged {r}"

    @app.workflow(name="orders", version="1")
    async def orders(ctx: legato.Context, n: int) -> str:
        r = await ctx.step(reserve, n)
        await ctx.sleep(3600)
        return await ctx.step(charge, r)  # type: ignore[no-any-return]

    return app, orders, runs


# Each variant is the body of a new ``orders`` v1, and what the suspension must say.
async def charge_first(ctx: legato.Context, s: Any, n: int) -> Any:
    await ctx.step(s["charge"], "x")
    return await ctx.step(s["reserve"], n)


async def sleep_first(ctx: legato.Context, s: Any, n: int) -> Any:
    await ctx.sleep(10)
    return await ctx.step(s["reserve"], n)


async def no_timer(ctx: legato.Context, s: Any, n: int) -> Any:
    r = await ctx.step(s["reserve"], n)
    return await ctx.step(s["charge"], r)


async def returns_early(ctx: legato.Context, s: Any, n: int) -> Any:
    return "nothing to do"


async def stops_after_reserve(ctx: legato.Context, s: Any, n: int) -> Any:
    return await ctx.step(s["reserve"], n)


DIVERGENT = [
    (charge_first, "command #1", "step 'reserve'", "step 'charge'"),
    (sleep_first, "command #1", "step 'reserve'", "a timer (ctx.sleep)"),
    (no_timer, "command #2", "a timer (ctx.sleep)", "step 'charge'"),
    (returns_early, "command #1", "step 'reserve'", "return from the workflow"),
    (stops_after_reserve, "command #2", "a timer (ctx.sleep)", "return from the workflow"),
]


# Compatible: the recorded commands come out again; what follows the timer may change.
async def more_after_timer(ctx: legato.Context, s: Any, n: int) -> Any:
    r = await ctx.step(s["reserve"], n)
    await ctx.sleep(3600)
    await ctx.step(s["reserve"], n + 1)
    return await ctx.step(s["charge"], r)


async def same_code(ctx: legato.Context, s: Any, n: int) -> Any:
    r = await ctx.step(s["reserve"], n)
    await ctx.sleep(3600)
    return await ctx.step(s["charge"], r)


def changed_app(
    url: str,
    body: Callable[..., Awaitable[Any]],
    *,
    skip_time: bool = False,
    lease_seconds: float = 30.0,
) -> tuple[legato.App, list[str]]:
    """A new deployment: ``orders`` v1 is now ``body``. ``skip_time``: the time-skipping clock,
    so the recorded hour-long timer fires at once."""
    app = legato.App(url, clock=SkippingClock() if skip_time else None, lease_seconds=lease_seconds)
    runs: list[str] = []

    @app.step(name="reserve")
    async def reserve(n: int) -> str:
        runs.append("reserve")
        return f"r-{n}"

    @app.step(name="charge")
    async def charge(r: str) -> str:
        runs.append("charge")
        return f"charged {r}"

    steps = {"reserve": reserve, "charge": charge}

    @app.workflow(name="orders", version="1")
    async def orders(ctx: legato.Context, n: int) -> Any:
        return await body(ctx, steps, n)

    return app, runs


def rows(history: list[Event]) -> list[tuple[Any, ...]]:
    return [(e.seq, e.batch, *to_row(e)) for e in history]


async def run_until_sleeping(
    url: str, wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]]
) -> tuple[str, list[Event]]:
    """Runs ``orders`` v1 on the wall clock until it sleeps its hour, then stops the app."""
    app, orders, runs = original_app(url)
    async with app:
        handle = await app.start(orders, 7, id="order-7")
        history = await wait_event(handle, EventType.TIMER_STARTED)
    assert runs == ["reserve"]
    return handle.id, history


def expected_reason(where: str, recorded: str, now: str) -> str:
    return f"non-determinism at {where}: the history recorded {recorded}, the code now does {now}"


def check_suspension(before: list[Event], after: list[Event], reason: str) -> None:
    """Nothing divergent was written: the history gained the suspension and nothing else."""
    assert rows(after[: len(before)]) == rows(before)
    assert [e.type for e in after[len(before) :]] == [EventType.EXECUTION_SUSPENDED]
    suspended = after[-1]
    assert isinstance(suspended, ExecutionSuspended)
    assert (suspended.kind, suspended.reason) == ("non-determinism", reason)


async def test_changed_code_suspends_when_the_engine_starts(
    any_db_url: str,
    wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]],
    wait_for: Callable[..., Awaitable[None]],
) -> None:
    """The issue's scenario: an execution sleeps for an hour, the app is redeployed with code
    that now charges first; starting the engine suspends it (it does not wait for the hour)."""
    eid, before = await run_until_sleeping(any_db_url, wait_event)

    app, runs = changed_app(any_db_url, charge_first)
    async with app:
        handle = app.get_handle(eid)

        async def suspended() -> bool:
            return (await handle.status()).status == legato.Status.SUSPENDED

        await wait_for(suspended)
        status = await handle.status()
        after = await handle.history()

    reason = expected_reason("command #1", "step 'reserve'", "step 'charge'")
    assert status.reason == reason
    assert runs == []
    check_suspension(before, after, reason)


@pytest.mark.parametrize(
    ("body", "where", "recorded", "now"), DIVERGENT, ids=[d[0].__name__ for d in DIVERGENT]
)
async def test_changed_code_suspends_at_the_next_event(
    any_db_url: str,
    tmp_path: Path,
    body: Callable[..., Awaitable[Any]],
    where: str,
    recorded: str,
    now: str,
    wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]],
    wait_status: Callable[[legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]],
) -> None:
    eid, before = await run_until_sleeping(any_db_url, wait_event)

    app, runs = changed_app(any_db_url, body, skip_time=True)  # the hour's timer fires at once
    async with app:
        handle = app.get_handle(eid)
        status = await wait_status(handle, legato.Status.SUSPENDED)
        after = await handle.history()

    reason = expected_reason(where, recorded, now)
    assert status.reason == reason
    assert status.closed_at is None
    assert runs == []  # the new code ran no step
    check_suspension(before, after, reason)

    # the replayer says the same about the exported history, as a dict and as a file
    exported = export_history(eid, "orders", "1", before)
    path = tmp_path / "order-7.json"
    path.write_text(json.dumps(exported))
    for source in (exported, path, str(path)):
        report = replay(app, [source])
        assert [(r.execution_id, r.workflow, r.version) for r in report.failures] == [
            ("order-7", "orders", "1")
        ]
        error = report.failures[0].error
        assert isinstance(error, legato.NonDeterminismError)
        assert (error.step, error.recorded, error.now) == (where, recorded, now)
        assert str(error) == reason
        with pytest.raises(AssertionError, match="order-7"):
            report.raise_for_failures()


async def stop_while_reserving(
    url: str, wait_event: Callable[..., Awaitable[list[Event]]]
) -> list[Event]:
    """Runs ``orders`` (reserve, then charge) until ``reserve`` is scheduled, and stops the app
    then, with no grace period: the step is cancelled and its task's lease given back (any
    worker may claim it at once)."""
    first = legato.App(url, grace_seconds=0)
    blocked = asyncio.Event()

    @first.step(name="reserve")
    async def reserve(n: int) -> str:
        await blocked.wait()  # never set: the app stops while this runs
        return "unreachable"

    @first.step(name="charge")
    async def charge(r: str) -> str:
        return r

    @first.workflow(name="orders", version="1")
    async def orders(ctx: legato.Context, n: int) -> str:
        return await ctx.step(charge, await ctx.step(reserve, n))  # type: ignore[no-any-return]

    async with first:
        handle = await first.start(orders, 7, id="order-7")
        return await wait_event(handle, EventType.STEP_SCHEDULED)


async def test_changed_code_suspends_an_execution_stopped_mid_step(
    any_db_url: str,
    wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]],
    wait_status: Callable[[legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]],
) -> None:
    """The app stops while a step runs; the new deployment suspends the execution and runs
    none of its steps."""
    before = await stop_while_reserving(any_db_url, wait_event)

    app, runs = changed_app(any_db_url, charge_first)
    # The new deployment decides before it works: the step's lease was given back, so a worker
    # started with it could claim the step before the replay finds the changed code (as a
    # separate worker process can). Once suspended, its tasks are parked: none is claimed.
    await app.start_engine(work=False)
    try:
        status = await wait_status(app.get_handle("order-7"), legato.Status.SUSPENDED)
        after = await app.get_handle("order-7").history()
    finally:
        await app.shutdown()

    reason = expected_reason("command #1", "step 'reserve'", "step 'charge'")
    assert status.reason == reason
    assert runs == []
    check_suspension(before, after, reason)


async def test_steps_of_a_suspended_execution_are_not_handed_out_again(
    any_db_url: str,
    wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]],
    wait_status: Callable[[legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]],
) -> None:
    """Once suspended, an execution's recorded step must not be claimed (and re-run, e.g.
    charge a card again) each time its lease runs out."""
    await stop_while_reserving(any_db_url, wait_event)
    app, runs = changed_app(any_db_url, charge_first, lease_seconds=0.5)
    async with app:
        await wait_status(app.get_handle("order-7"), legato.Status.SUSPENDED)

    store = open_store(any_db_url)
    await store.open()
    try:  # a worker asking for work far in the future, when every lease has run out
        steps = sorted(app.registry.steps)
        claimed = await store.claim_tasks("probe-worker", ["default"], steps, 2**62, 1_000, 100)
    finally:
        await store.close()
    assert [(t.execution_id, t.name) for t in claimed] == []


@pytest.mark.parametrize("body", [same_code, more_after_timer], ids=lambda b: b.__name__)
async def test_compatible_code_continues_after_restart(
    any_db_url: str,
    body: Callable[..., Awaitable[Any]],
    wait_event: Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]],
) -> None:
    eid, before = await run_until_sleeping(any_db_url, wait_event)

    report = replay(changed_app(any_db_url, body)[0], [export_history(eid, "orders", "1", before)])
    assert report.failures == []
    assert [r.ok for r in report.results] == [True]
    report.raise_for_failures()

    app, runs = changed_app(any_db_url, body, skip_time=True)
    async with app:
        handle = app.get_handle(eid)
        assert await handle.result(timeout=20) == "charged r-7"
        after = await handle.history()

    assert runs == (["charge"] if body is same_code else ["reserve", "charge"])
    assert rows(after[: len(before)]) == rows(before)
    assert EventType.EXECUTION_SUSPENDED not in [e.type for e in after]
    fired = of_type(after, TimerFired)
    started = of_type(after, TimerStarted)
    assert len(fired) == 1 and fired[0].ts >= started[0].fire_at


async def test_replay_of_completed_histories(any_db_url: str) -> None:
    app, runs = changed_app(any_db_url, no_timer)
    async with app:
        handles = [
            await app.start(app.registry.lookup_workflow("orders", "1").fn, n)  # type: ignore[union-attr]
            for n in range(3)
        ]
        results = [await h.result() for h in handles]
        histories = [export_history(h.id, "orders", "1", await h.history()) for h in handles]
    assert results == ["charged r-0", "charged r-1", "charged r-2"]

    same, _ = changed_app(f"{any_db_url}.unused", no_timer)
    assert replay(same, histories).failures == []

    # a version the app does not register is a problem, not a crash
    other_version = [{**histories[0], "version": "9"}]
    report = replay(same, other_version)
    assert [r.problem for r in report.failures] == [
        "workflow 'orders' version '9' is not registered"
    ]

    changed, _ = changed_app(f"{any_db_url}.unused", more_after_timer)
    report = replay(changed, histories)
    assert len(report.failures) == 3
    assert {str(r.error) for r in report.failures} == {
        "non-determinism at command #2: the history recorded step 'charge', "
        "the code now does a timer (ctx.sleep)"
    }
