"""Sagas: ``ctx.step(fn, ..., compensate=undo)`` owes ``undo`` once ``fn`` succeeded; the owed
compensations run most recent first, each a durable step, when the workflow fails or is
cancelled, or when it calls ``ctx.compensate()``. Both stores."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import legato
from legato.core.events import (
    CompensationCompleted,
    CompensationStarted,
    EventType,
    ExecutionFailed,
)
from tests.conftest import of_type

EventWaiter = Callable[[legato.Handle[Any], EventType], Awaitable[Any]]


def trip_app(url: str, calls: list[str], *, undo_fails: bool = False) -> legato.App:
    app = legato.App(url)

    @app.step
    async def book_flight(trip: str) -> str:
        calls.append(f"book_flight {trip}")
        return f"FL-{trip}"

    @app.step
    async def cancel_flight(trip: str) -> None:
        ctx = legato.step_context()
        undoes = (ctx.compensates or "").rpartition(".")[2]
        calls.append(f"cancel_flight {trip} {undoes} {ctx.compensated_result}")

    @app.step
    async def book_hotel(trip: str) -> str:
        calls.append(f"book_hotel {trip}")
        return f"HO-{trip}"

    @app.step(retry=legato.Retry(max_attempts=2, initial=0.01))
    async def cancel_hotel(trip: str) -> None:
        ctx = legato.step_context()
        calls.append(f"cancel_hotel {trip} {ctx.compensated_result}")
        if undo_fails:
            raise RuntimeError("hotel desk closed")

    @app.step(retry=legato.Retry(max_attempts=1))
    async def charge(trip: str) -> str:
        calls.append(f"charge {trip}")
        raise ValueError("card declined")

    @app.workflow(name="trip")
    async def trip(ctx: legato.Context, name: str) -> str:
        await ctx.step(book_flight, name, compensate=cancel_flight)
        await ctx.call_step(book_hotel, (name,), compensate=cancel_hotel)
        result: str = await ctx.step(charge, name)
        return result

    return app


async def test_a_failing_third_step_runs_the_compensations_in_reverse(any_db_url: str) -> None:
    calls: list[str] = []
    app = trip_app(any_db_url, calls)
    async with app:
        handle = await app.start("trip", "rome", id="trip-1")
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=20)
        history = await handle.history()
    assert failed.value.error_type == "ValueError"
    assert calls == [
        "book_flight rome",
        "book_hotel rome",
        "charge rome",
        "cancel_hotel rome HO-rome",  # most recent first, with the forward step's result
        "cancel_flight rome book_flight FL-rome",
    ]
    assert [e.count for e in of_type(history, CompensationStarted)] == [2]
    assert len(of_type(history, CompensationCompleted)) == 1
    with pytest.raises(legato.ExecutionStateError, match="compensations ran"):
        async with app:
            await app.redrive("trip-1")


async def test_a_compensation_that_fails_for_good_fails_the_execution_with_both_errors(
    any_db_url: str,
) -> None:
    calls: list[str] = []
    app = trip_app(any_db_url, calls, undo_fails=True)
    async with app:
        handle = await app.start("trip", "oslo", id="trip-2")
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result(timeout=20)
        history = await handle.history()
    failed = of_type(history, ExecutionFailed)[0]
    assert failed.error_type == "RuntimeError"
    assert "hotel desk closed" in failed.message and "card declined" in failed.message
    assert calls.count("cancel_hotel oslo HO-oslo") == 2  # its own retries
    assert not any(c.startswith("cancel_flight") for c in calls)  # stopped at the failure
    assert not of_type(history, CompensationCompleted)


async def test_compensate_on_demand_and_then_carry_on(any_db_url: str) -> None:
    app = legato.App(any_db_url)
    calls: list[str] = []

    @app.step
    async def reserve(item: str) -> str:
        calls.append(f"reserve {item}")
        return item

    @app.step
    async def release_item(item: str) -> None:
        calls.append(f"release {item}")

    @app.workflow(name="shop")
    async def shop(ctx: legato.Context) -> str:
        await ctx.step(reserve, "a", compensate=release_item)
        await ctx.step(reserve, "b", compensate=release_item)
        await ctx.compensate()  # the basket is dropped: undo both, owe nothing
        await ctx.step(reserve, "c")
        return "ok"

    async with app:
        assert await (await app.start(shop)).result(timeout=20) == "ok"
    assert calls == ["reserve a", "reserve b", "release b", "release a", "reserve c"]


async def test_cancelling_a_saga_runs_its_compensations(
    any_db_url: str, wait_event: EventWaiter
) -> None:
    app = legato.App(any_db_url)
    calls: list[str] = []

    @app.step
    async def lock_seat(n: int) -> int:
        calls.append(f"lock {n}")
        return n

    @app.step
    async def unlock_seat(n: int) -> None:
        calls.append(f"unlock {n}")

    @app.workflow(name="seats")
    async def seats(ctx: legato.Context) -> Any:
        await ctx.step(lock_seat, 1, compensate=unlock_seat)
        await ctx.step(lock_seat, 2, compensate=unlock_seat)
        return await ctx.wait_for_signal("pay")

    async with app:
        handle = await app.start(seats, id="seats-1")
        await wait_event(handle, EventType.STEP_COMPLETED)

        async def both_locked() -> bool:
            return calls.count("lock 2") == 1

        while not await both_locked():
            await asyncio.sleep(0.01)
        await handle.cancel("timeout at the till")
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=20)
    assert failed.value.status == "CANCELLED"
    assert calls == ["lock 1", "lock 2", "unlock 2", "unlock 1"]


async def test_cancel_during_a_running_step_tells_the_step_and_compensates(
    any_db_url: str,
) -> None:
    app = legato.App(any_db_url)
    calls: list[str] = []
    running = asyncio.Event()

    @app.step
    async def hold(n: int) -> int:
        calls.append(f"hold {n}")
        return n

    @app.step
    async def unhold(n: int) -> None:
        calls.append(f"unhold {n}")

    @app.step
    async def print_tickets(n: int) -> str:
        running.set()
        try:
            await asyncio.Event().wait()  # until cancelled
        except asyncio.CancelledError:
            calls.append(f"printing stopped, cancelled={legato.step_context().cancelled}")
            raise
        return "printed"

    @app.workflow(name="tickets")
    async def tickets(ctx: legato.Context) -> str:
        await ctx.step(hold, 1, compensate=unhold)
        await ctx.step(hold, 2, compensate=unhold)
        printed: str = await ctx.step(print_tickets, 2)
        return printed

    async with app:
        handle = await app.start(tickets, id="tickets-1")
        await asyncio.wait_for(running.wait(), 20)
        await handle.cancel()
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=20)
    assert failed.value.status == "CANCELLED"
    assert calls[:2] == ["hold 1", "hold 2"]
    assert calls[2:].count("printing stopped, cancelled=True") == 1
    assert [c for c in calls[2:] if c.startswith("unhold")] == ["unhold 2", "unhold 1"]
