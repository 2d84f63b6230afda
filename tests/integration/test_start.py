"""Starting executions: idempotent ids, bad input, and workflows the engine does not know."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import legato
from legato.core.events import EventType, ExecutionSuspended
from legato.core.export import export_history
from legato.testing import WorkflowEnvironment


@pytest.mark.parametrize("client_only", [False, True], ids=["engine", "client-only"])
async def test_same_id_and_input_is_the_same_execution(any_db_url: str, client_only: bool) -> None:
    app = legato.App(any_db_url)
    runs: list[str] = []

    @app.step(name="charge")
    async def charge(order: str) -> str:
        runs.append(order)
        return f"charged {order}"

    @app.workflow(name="checkout")
    async def checkout(ctx: legato.Context, order: str) -> str:
        return await ctx.step(charge, order)  # type: ignore[no-any-return]

    if client_only:  # recorded PENDING, then an engine on the same database runs it
        first = await app.start(checkout, "A-1", id="order-A-1")
        second = await app.start(checkout, "A-1", id="order-A-1")
        await app.shutdown()
        async with app:
            third = await app.start(checkout, "A-1", id="order-A-1")
            assert await third.result() == "charged A-1"
    else:
        async with app:
            first = await app.start(checkout, "A-1", id="order-A-1")
            assert await first.result() == "charged A-1"
            second = await app.start(checkout, "A-1", id="order-A-1")
            third = await app.start(checkout, "A-1", id="order-A-1")
            assert await third.result() == "charged A-1"
    async with app:
        executions = await app.list_executions()
        history = await first.history()

    assert first.id == second.id == third.id == "order-A-1"
    assert runs == ["A-1"]
    assert [(e.id, e.status) for e in executions] == [("order-A-1", legato.Status.COMPLETED)]
    assert [e.type for e in history].count(EventType.EXECUTION_STARTED) == 1


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("A-2",), {}), ((), {"order": "A-1"})],
    ids=["other-value", "same-value-as-keyword"],
)
async def test_same_id_with_different_input_raises(
    any_db_url: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    app = legato.App(any_db_url)
    runs: list[str] = []

    @app.step(name="charge")
    async def charge(order: str) -> str:
        runs.append(order)
        return order

    @app.workflow(name="checkout")
    async def checkout(ctx: legato.Context, order: str) -> str:
        return await ctx.step(charge, order)  # type: ignore[no-any-return]

    async with app:
        first = await app.start(checkout, "A-1", id="order-1")
        assert await first.result() == "A-1"
        with pytest.raises(legato.ExecutionAlreadyExists) as info:
            await app.start(checkout, *args, id="order-1", **kwargs)
        assert info.value.execution_id == "order-1"
        assert "order-1" in str(info.value)
        assert len(await app.list_executions()) == 1
    assert runs == ["A-1"]


async def test_same_id_with_another_workflow_raises(any_db_url: str) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="a")
    async def a(ctx: legato.Context) -> int:
        return 1

    @app.workflow(name="b")
    async def b(ctx: legato.Context) -> int:
        return 2

    async with app:
        assert await (await app.start(a, id="x")).result() == 1
        with pytest.raises(legato.ExecutionAlreadyExists, match="'a'"):
            await app.start(b, id="x")


class Opaque:
    pass


@pytest.mark.parametrize(
    ("args", "kwargs", "type_name"),
    [
        ((object(),), {}, "object"),
        ((), {"payload": Opaque()}, "Opaque"),
        (("fine", Opaque()), {}, "Opaque"),
    ],
)
@pytest.mark.parametrize("client_only", [False, True], ids=["engine", "client-only"])
async def test_unserialisable_workflow_input_is_rejected_before_writing(
    any_db_url: str,
    client_only: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    type_name: str,
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="ingest")
    async def ingest(ctx: legato.Context, payload: Any, extra: Any = None) -> None:
        return None

    async def check() -> None:
        with pytest.raises(legato.SerializationError) as info:
            await app.start(ingest, *args, id="bad", **kwargs)
        text = str(info.value)
        assert "'ingest'" in text
        assert type_name in text
        assert await app.list_executions() == []

    if client_only:
        await check()
        await app.shutdown()
    else:
        async with app:
            await check()
    async with app:  # and nothing shows up later either
        assert await app.list_executions() == []
        with pytest.raises(legato.ExecutionNotFound):
            await app.get_handle("bad").status()


async def test_step_returning_unserialisable_value_fails_the_step_once(any_db_url: str) -> None:
    app = legato.App()
    runs: list[int] = []

    @app.step(name="fetch", retry=legato.Retry(max_attempts=5, initial=1))
    async def fetch() -> Any:
        runs.append(legato.step_context().attempt)
        return Opaque()

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        try:
            await ctx.step(fetch)
        except legato.StepFailed as exc:
            return [exc.step, exc.error_type, exc.message, exc.attempts]
        return []

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        step, error_type, message, attempts = await handle.result()
        history = await handle.history()
        status = await handle.status()

    assert runs == [1]
    assert (step, error_type, attempts) == ("fetch", "SerializationError", 1)
    assert "'fetch'" in message and "Opaque" in message
    assert status.status == legato.Status.COMPLETED
    assert not [e for e in history if e.type == EventType.STEP_RETRY_SCHEDULED]
    # the history is still loadable and exportable
    exported = export_history(handle.id, "wf", "1", history)
    assert json.loads(json.dumps(exported))["events"][-1]["type"] == "ExecutionCompleted"
    assert legato.testing.replay(app, [exported]).failures == []


async def test_step_argument_that_is_not_serialisable_fails_the_workflow(any_db_url: str) -> None:
    app = legato.App()

    @app.step(name="store")
    async def store(x: Any) -> None:
        return None

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> None:
        await ctx.step(store, Opaque())

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result()
        status = await handle.status()
    assert status.error_type == "SerializationError"
    assert "'store'" in (status.error_message or "") and "Opaque" in (status.error_message or "")


async def test_workflow_result_that_is_not_serialisable_fails_the_execution(
    any_db_url: str,
) -> None:
    app = legato.App()

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> Any:
        return Opaque()

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result()
        status = await handle.status()
    assert status.status == legato.Status.FAILED
    assert status.error_type == "SerializationError"
    assert "'wf'" in (status.error_message or "") and "Opaque" in (status.error_message or "")


def unregistered_apps(
    url: str,
) -> tuple[legato.App, Callable[..., Any], legato.App, legato.App]:
    """A client app that knows ``orders`` v2, an engine app that only knows v1, and one that
    knows v2."""
    client = legato.App(url)

    @client.workflow(name="orders", version="2")
    async def orders_client(ctx: legato.Context, n: int) -> int:
        raise AssertionError("the client app never runs workflows")

    old = legato.App(url)

    @old.workflow(name="orders", version="1")
    async def orders_v1(ctx: legato.Context, n: int) -> int:
        return -1

    new = legato.App(url)

    @new.step(name="double")
    async def double(n: int) -> int:
        return n * 2

    @new.workflow(name="orders", version="2")
    async def orders_v2(ctx: legato.Context, n: int) -> int:
        return await ctx.step(double, n)  # type: ignore[no-any-return]

    return client, orders_client, old, new


@pytest.mark.parametrize(
    "engine_first", [False, True], ids=["started-before-engine", "engine-running"]
)
async def test_unregistered_workflow_is_suspended_then_resumed(
    any_db_url: str,
    engine_first: bool,
    wait_status: Callable[[legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]],
) -> None:
    client, orders_client, old, new = unregistered_apps(any_db_url)

    if engine_first:  # the engine polls for executions other processes start
        async with old:
            handle = await client.start(orders_client, 21, id="o-1")
            status = await wait_status(handle, legato.Status.SUSPENDED)
    else:
        handle = await client.start(orders_client, 21, id="o-1")
        assert (await handle.status()).status == legato.Status.PENDING
        async with old:
            status = await wait_status(handle, legato.Status.SUSPENDED)
    assert status.reason is not None
    assert (
        "'orders'" in status.reason and "'2'" in status.reason and "not registered" in status.reason
    )
    assert status.closed_at is None

    async with new:
        assert await new.get_handle("o-1").result(timeout=20) == 42
    final = await handle.status()
    history = await handle.history()
    await client.shutdown()

    assert final.status == legato.Status.COMPLETED
    types = [e.type for e in history]
    assert types[:3] == [
        EventType.EXECUTION_STARTED,
        EventType.EXECUTION_SUSPENDED,
        EventType.EXECUTION_RESUMED,
    ]
    assert types[-1] == EventType.EXECUTION_COMPLETED
    suspended = history[1]
    assert isinstance(suspended, ExecutionSuspended)
    assert suspended.kind == "unregistered"
    assert suspended.reason == status.reason
