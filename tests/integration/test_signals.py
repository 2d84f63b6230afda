"""Signals: buffered durably in the history, handed out in order, kept across a restart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import legato
from legato.core.events import Event, EventType, SignalReceived
from legato.testing import WorkflowEnvironment

WaitEvent = Callable[[legato.Handle[Any], EventType], Awaitable[list[Event]]]
WaitStatus = Callable[[legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]]


def _signals(history: list[Event]) -> list[tuple[str | None, str | None]]:
    return [(e.name, e.payload) for e in history if isinstance(e, SignalReceived)]


async def test_a_signal_sent_before_the_workflow_waits_is_buffered(
    any_db_url: str, wait_event: WaitEvent
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="two_gates")
    async def two_gates(ctx: legato.Context) -> list[Any]:
        second = await ctx.wait_for_signal("second")
        first = await ctx.wait_for_signal("first")
        return [first, second]

    async with app:
        handle = await app.start(two_gates, id="gates")
        await handle.signal("first", {"n": 1})  # nobody waits for it yet
        await wait_event(handle, EventType.SIGNAL_RECEIVED)
        await app.signal("gates", "second", [2])
        assert await handle.result(timeout=20) == [{"n": 1}, [2]]
        history = await handle.history()
    assert _signals(history) == [("first", '{"n":1}'), ("second", "[2]")]


async def test_a_client_started_execution_that_first_waits_gets_its_signal(
    any_db_url: str, wait_for: Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]
) -> None:
    """Started by a client, its first decision writes no event (the code only waits): the
    engine still marks it RUNNING, so the signal sent to it is read and recorded."""
    engine, client = legato.App(any_db_url), legato.App(any_db_url)
    for app in (engine, client):

        @app.workflow(name="approval")
        async def approval(ctx: legato.Context) -> str:
            return f"approved by {await ctx.wait_for_signal('approval')}"

    async with engine:
        handle = await client.start("approval", id="approve-1")

        async def picked_up() -> bool:
            return (await handle.status()).status == legato.Status.RUNNING

        await wait_for(picked_up)
        await client.signal("approve-1", "approval", "ada")
        assert await handle.result(timeout=20) == "approved by ada"
        history = await handle.history()
    await client.shutdown()
    assert [e.type for e in history] == [
        EventType.EXECUTION_STARTED,
        EventType.SIGNAL_RECEIVED,
        EventType.EXECUTION_COMPLETED,
    ]


async def test_a_signal_after_the_workflow_waits_resumes_it_from_a_client(
    any_db_url: str, wait_event: WaitEvent
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="approval")
    async def approval(ctx: legato.Context) -> str:
        decision = await ctx.wait_for_signal("approval")
        return f"approved by {decision['by']}"

    async with app:
        handle = await app.start(approval, id="approve-1")
        await wait_event(handle, EventType.EXECUTION_STARTED)
        client = legato.App(any_db_url)  # another App with no engine: client mode
        try:
            await client.signal("approve-1", "approval", {"by": "ada"})
        finally:
            await client.shutdown()
        assert await handle.result(timeout=20) == "approved by ada"


async def test_several_signals_are_received_in_the_order_sent(any_db_url: str) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="collect")
    async def collect(ctx: legato.Context, n: int) -> list[Any]:
        items = [await ctx.wait_for_signal("item") for _ in range(n)]
        await ctx.wait_for_signal("done")  # open until the test has sent every signal
        return items

    async with app:
        handle = await app.start(collect, 5, id="collect")
        for i in range(5):
            await app.signal("collect", "item", i)
        await app.signal("collect", "other", "ignored")
        await app.signal("collect", "done")
        assert await handle.result(timeout=20) == [0, 1, 2, 3, 4]
        history = await handle.history()
    assert [p for n, p in _signals(history) if n == "item"] == ["0", "1", "2", "3", "4"]


async def test_a_signal_to_an_unknown_or_closed_execution_is_refused(any_db_url: str) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="quick")
    async def quick(ctx: legato.Context) -> int:
        return 1

    async with app:
        with pytest.raises(legato.ExecutionNotFound):
            await app.signal("nobody", "hello")
        handle = await app.start(quick, id="quick")
        await handle.result(timeout=20)
        with pytest.raises(legato.ExecutionClosed, match="COMPLETED"):
            await app.signal("quick", "hello", 1)


async def test_signals_survive_a_restart_and_replay_in_order(
    any_db_url: str, wait_for: Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]
) -> None:
    def build() -> legato.App:
        app = legato.App(any_db_url)

        @app.step(name="double")
        async def double(x: int) -> int:
            return 2 * x

        @app.workflow(name="adder")
        async def adder(ctx: legato.Context) -> list[int]:
            got = []
            for _ in range(3):
                got.append(await ctx.step(double, await ctx.wait_for_signal("n")))
            return got

        return app

    app = build()
    async with app:
        handle = await app.start("adder", id="adder")
        await app.signal("adder", "n", 1)
        await app.signal("adder", "n", 2)

        async def two_doubled() -> bool:
            done = [e for e in await handle.history() if e.type == EventType.STEP_COMPLETED]
            return len(done) == 2

        await wait_for(two_doubled)
    app = build()  # a new process on the same database: replays the history
    async with app:
        await app.signal("adder", "n", 3)
        assert await app.get_handle("adder").result(timeout=20) == [2, 4, 6]
        assert app.stats["replays"] >= 1


async def test_wait_for_signal_with_a_timeout_returns_none(any_db_url: str) -> None:
    app = legato.App()

    @app.workflow(name="maybe")
    async def maybe(ctx: legato.Context) -> list[Any]:
        late = await ctx.wait_for_signal("never", timeout=3600)
        return [late, ctx.now().isoformat()]

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(maybe)
        late, _ = await handle.result(timeout=20)
        history = await handle.history()
    assert late is None
    assert [e.type for e in history] == [
        EventType.EXECUTION_STARTED,
        EventType.TIMER_STARTED,
        EventType.TIMER_FIRED,
        EventType.EXECUTION_COMPLETED,
    ]


async def test_a_signal_before_the_timeout_cancels_its_timer(any_db_url: str) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="prompt")
    async def prompt(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("go", timeout=3600)

    async with app:
        handle = await app.start(prompt, id="prompt")
        await app.signal("prompt", "go", "now")
        assert await handle.result(timeout=20) == "now"
        types = [e.type for e in await handle.history()]
    assert EventType.TIMER_FIRED not in types


async def test_a_client_started_execution_that_first_waits_for_a_signal_gets_it(
    any_db_url: str, wait_status: WaitStatus
) -> None:
    """Started PENDING by a client, its first decision writes no event (it only waits); it must
    still become RUNNING, or its inbox is never read."""
    app = legato.App(any_db_url)

    @app.workflow(name="approval")
    async def approval(ctx: legato.Context) -> str:
        decision = await ctx.wait_for_signal("approval")
        return f"approved by {decision['by']}"

    early = await app.start(approval, id="early")  # no engine here: recorded PENDING
    await app.signal("early", "approval", {"by": "ada"})  # sent while PENDING
    late = await app.start(approval, id="late")
    await app.shutdown()
    async with app:
        await wait_status(late, legato.Status.RUNNING)
        await app.signal("late", "approval", {"by": "bo"})
        assert await early.result(timeout=20) == "approved by ada"
        assert await late.result(timeout=20) == "approved by bo"
