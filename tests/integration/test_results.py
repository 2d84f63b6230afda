"""What ``handle.result()`` says when there is no result to wait for: a suspended execution
(before the call, or while it waits), an execution that closed without a result (one error
type per status), a wait that timed out; and a return value that does not match the workflow's
annotation, which fails the execution where it was returned."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
import pytest

import legato
from legato.core.events import EventType, Status
from legato.core.transition import ExecutionUpdate, Transition
from tests.integration.test_start import unregistered_apps

Waiter = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]
StatusWaiter = Callable[[legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]]


def _unregistered(error: legato.ExecutionSuspended) -> None:
    assert error.execution_id == "o-1"
    assert error.kind == "unregistered"
    assert error.reason is not None and "not registered" in error.reason
    assert "'o-1'" in str(error) and "SUSPENDED" in str(error)


async def test_result_of_a_suspended_execution_raises_at_once(
    any_db_url: str, wait_status: StatusWaiter
) -> None:
    client, orders_client, old, _ = unregistered_apps(any_db_url)
    async with old:  # knows only v1: suspends the v2 execution the client starts
        handle = await client.start(orders_client, 21, id="o-1")
        await wait_status(handle, legato.Status.SUSPENDED)
        with pytest.raises(legato.ExecutionSuspended) as in_engine:  # the engine's own handle
            await old.get_handle("o-1").result(timeout=20)
    with pytest.raises(legato.ExecutionSuspended) as in_client:
        await handle.result(timeout=20)  # a timeout would be WorkflowTimeoutError instead
    await client.shutdown()
    _unregistered(in_engine.value)
    _unregistered(in_client.value)
    assert isinstance(in_client.value, legato.ExecutionFailedError)


async def test_result_raises_when_the_execution_is_suspended_while_a_client_waits(
    any_db_url: str, wait_for: Waiter
) -> None:
    client, orders_client, old, _ = unregistered_apps(any_db_url)
    handle = await client.start(orders_client, 21, id="o-1")  # PENDING: no engine runs yet
    waiting = asyncio.ensure_future(handle.result(timeout=30))

    async def watched() -> bool:
        watcher = client._watcher
        return watcher is not None and "o-1" in watcher._waiters

    await wait_for(watched)
    async with old:
        with pytest.raises(legato.ExecutionSuspended) as info:
            await waiting
    await client.shutdown()
    _unregistered(info.value)


async def test_result_raises_when_the_engine_suspends_the_execution_while_waited_on(
    any_db_url: str, wait_for: Waiter
) -> None:
    """The engine's own handle, waiting on the orchestrator: the code changes under a running
    execution, which is out of the cache and replays (and diverges) when its signal comes."""
    app = legato.App(any_db_url, cache_size=1)
    variant = {"step": "first"}

    @app.step(name="first")
    async def first() -> str:
        return "first"

    @app.step(name="second")
    async def second() -> str:
        return "second"

    @app.workflow(name="changing")
    async def changing(ctx: legato.Context, n: int) -> str:
        done = await ctx.step(first if variant["step"] == "first" else second)
        await ctx.wait_for_signal("go")
        return done  # type: ignore[no-any-return]

    async with app:
        orch = app._engine.orchestrator  # type: ignore[union-attr]
        assert orch is not None
        handle = await app.start(changing, 1, id="c-1")

        async def at_signal(eid: str) -> bool:
            history = await app.get_handle(eid).history()
            return EventType.STEP_COMPLETED in [e.type for e in history]

        await wait_for(lambda: at_signal("c-1"))
        await app.start(changing, 2, id="c-2")  # the cache holds one: c-1 leaves it
        await wait_for(lambda: at_signal("c-2"))

        async def evicted() -> bool:
            return not orch.is_live("c-1")

        await wait_for(evicted)
        waiting = asyncio.ensure_future(handle.result(timeout=30))

        async def awaited() -> bool:
            return bool(orch._waiters.get("c-1"))

        await wait_for(awaited)
        variant["step"] = "second"  # a new deployment: c-1's history no longer matches
        await handle.signal("go")
        with pytest.raises(legato.ExecutionSuspended) as info:
            await waiting
    assert info.value.kind == "non-determinism"
    assert info.value.reason is not None and "step 'first'" in info.value.reason


async def test_a_timed_out_wait_says_where_the_execution_stands(any_db_url: str) -> None:
    app = legato.App(any_db_url)

    @app.step(name="prepare")
    async def prepare() -> int:
        return 1

    @app.workflow(name="approval")
    async def approval(ctx: legato.Context) -> Any:
        await ctx.step(prepare)
        return await ctx.wait_for_signal("approved")

    pending = await app.start(approval, id="pending")  # a client: no engine picks it up
    with pytest.raises(legato.WorkflowTimeoutError) as before:
        await pending.result(timeout=0.05)
    await app.shutdown()
    async with app:
        running = await app.start(approval, id="running")
        with pytest.raises(legato.WorkflowTimeoutError) as during:
            await running.result(timeout=0.5)

    assert str(before.value).startswith("execution 'pending' did not finish within 0.05s")
    assert "it is PENDING: no engine has picked it up yet" in str(before.value)
    assert "execution 'running' did not finish within 0.5s" in str(during.value)
    assert "it is RUNNING, current step 'prepare'" in str(during.value)


async def close_as(app: legato.App, execution_id: str, status: Status) -> None:
    """Closes an open execution with ``status`` by writing its row through the store, as the
    engine will once something produces that status (cancellation, run timeouts)."""
    store = await app._store_ready()
    row = await store.load_execution(execution_id)
    assert row is not None
    now = app.clock.now_ms()
    update = ExecutionUpdate(
        status, None, error_type="Why", error_message=f"made {status.value}", closed_at=now
    )
    await store.submit(Transition(execution_id, row.seq, now, (), update))


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (Status.CANCELLED, legato.ExecutionCancelled),
        (Status.TIMED_OUT, legato.ExecutionTimedOut),
    ],
)
@pytest.mark.parametrize("while_waiting", [False, True], ids=["closed-before", "while-waiting"])
async def test_each_closing_status_has_its_error(
    any_db_url: str,
    status: Status,
    error: type[legato.ExecutionFailedError],
    while_waiting: bool,
    wait_for: Waiter,
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="w")
    async def w(ctx: legato.Context) -> int:
        return 1

    handle = await app.start(w, id="x")  # PENDING, for no engine runs here
    waiting = asyncio.ensure_future(handle.result(timeout=30))
    if while_waiting:

        async def watched() -> bool:
            return app._watcher is not None and "x" in app._watcher._waiters

        await wait_for(watched)
    await close_as(app, "x", status)
    with pytest.raises(error) as info:
        await waiting
    await app.shutdown()
    assert isinstance(info.value, legato.ExecutionFailedError)  # old handlers still catch it
    assert (info.value.execution_id, info.value.status) == ("x", status.value)
    assert str(info.value) == f"execution 'x' is {status.value}: Why: made {status.value}"


class Point(pydantic.BaseModel):
    x: int
    y: int


async def test_a_result_that_does_not_match_the_annotation_fails_the_execution(
    any_db_url: str,
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="counts")
    async def counts(ctx: legato.Context) -> int:
        return "many"  # type: ignore[return-value]

    @app.workflow(name="point")
    async def point(ctx: legato.Context) -> Point:
        return {"x": 1, "y": "two"}  # type: ignore[return-value]

    @app.workflow(name="good")
    async def good(ctx: legato.Context) -> Point:
        return Point(x=1, y=2)

    @app.workflow(name="loose")
    async def loose(ctx: legato.Context) -> Any:
        return {"anything": ["goes"]}

    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": [1], "End": True}}}
    app.register_state_machine("machine", machine)

    async with app:
        handles = {name: await app.start(name, id=name) for name in ("counts", "point")}
        for handle in handles.values():
            with pytest.raises(legato.ExecutionFailedError) as info:
                await handle.result(timeout=20)
            assert info.value.status == "FAILED"
        assert await (await app.start(good)).result(timeout=20) == Point(x=1, y=2)
        assert await (await app.start(loose)).result(timeout=20) == {"anything": ["goes"]}
        assert await (await app.start("machine", {})).result(timeout=20) == [1]
        failed = {name: await h.status() for name, h in handles.items()}

    assert {s.status for s in failed.values()} == {legato.Status.FAILED}
    assert {s.error_type for s in failed.values()} == {"SerializationError"}
    assert failed["counts"].error_message == (
        "result of workflow 'counts': value of type str does not match the return annotation "
        "int (Input should be a valid integer, unable to parse string as an integer)"
    )
    message = failed["point"].error_message or ""
    assert "result of workflow 'point'" in message and "annotation Point" in message
    assert "y: Input should be a valid integer" in message
