"""Child executions: started in the parent's transition, their outcome delivered back through
the parent's inbox; fire and forget; idempotent ids."""

from __future__ import annotations

from typing import Any

import pytest

import legato
from legato.core import trace_context
from legato.core.event_rows import to_row
from legato.core.events import ChildCompleted, ChildFailed, ChildScheduled, EventType
from tests.conftest import of_type


def _app(url: str) -> legato.App:
    app = legato.App(url)

    @app.step(name="square")
    async def square(x: int) -> int:
        return x * x

    @app.workflow(name="kid")
    async def kid(ctx: legato.Context, x: int) -> int:
        if x < 0:
            raise ValueError(f"negative: {x}")
        result: int = await ctx.step(square, x)
        return result

    return app


async def test_a_child_completes_and_the_parent_gets_its_result(any_db_url: str) -> None:
    app = _app(any_db_url)

    @app.workflow(name="parent")
    async def parent(ctx: legato.Context) -> list[int]:
        a = await ctx.child("kid", 3)
        b = await ctx.gather(ctx.child("kid", 4), ctx.child("kid", 5))
        return [a, *b]

    async with app:
        handle = await app.start(parent, id="p")
        assert await handle.result(timeout=20) == [9, 16, 25]
        history = await handle.history()
        child = await app.get_handle("p/1").status()
        child_history = await app.get_handle("p/1").history()
    scheduled = of_type(history, ChildScheduled)
    assert [e.child_id for e in scheduled] == ["p/1", "p/2", "p/3"]
    assert sorted(e.ref for e in of_type(history, ChildCompleted)) == [1, 2, 3]
    assert child.status == legato.Status.COMPLETED
    parent_span = trace_context.of("p", None)  # the child runs in its parent's span
    meta = {"version": "1", "parent_id": "p", "parent_ref": 1, "traceparent": parent_span}
    assert to_row(child_history[0]).meta == meta


async def test_a_failed_child_raises_in_the_parent_and_can_be_caught(any_db_url: str) -> None:
    app = _app(any_db_url)

    @app.workflow(name="careful")
    async def careful(ctx: legato.Context) -> dict[str, Any]:
        try:
            await ctx.child("kid", -1)
        except legato.ChildFailed as exc:
            return {"type": exc.error_type, "message": exc.message, "child": exc.child_id}
        return {}

    async with app:
        handle = await app.start(careful, id="careful")
        assert await handle.result(timeout=20) == {
            "type": "ValueError",
            "message": "negative: -1",
            "child": "careful/1",
        }
        failed = of_type(await handle.history(), ChildFailed)
    assert failed[0].error_type == "ValueError"


async def test_an_uncaught_child_failure_fails_the_parent(any_db_url: str) -> None:
    app = _app(any_db_url)

    @app.workflow(name="reckless")
    async def reckless(ctx: legato.Context) -> int:
        return await ctx.child("kid", -2)  # type: ignore[no-any-return]

    async with app:
        handle = await app.start(reckless, id="reckless")
        with pytest.raises(legato.ExecutionFailedError) as info:
            await handle.result(timeout=20)
    assert info.value.error_type == "ValueError"


async def test_start_child_returns_once_started_and_the_child_runs_on(any_db_url: str) -> None:
    app = _app(any_db_url)

    @app.workflow(name="launcher")
    async def launcher(ctx: legato.Context) -> list[str]:
        # abandoned when the launcher closes: the default (request_cancel) would race the
        # child's own completion against the cancellation its parent's close sends
        ref = await ctx.start_child("kid", 6, id="launched", parent_close_policy="abandon")
        return [ref.id, ref.started_at.isoformat()]

    async with app:
        handle = await app.start(launcher, id="launcher")
        child_id, _ = await handle.result(timeout=20)
        assert child_id == "launched"
        assert await app.get_handle("launched").result(timeout=20) == 36
        history = await handle.history()
    types = [e.type for e in history]
    assert types == [
        EventType.EXECUTION_STARTED,
        EventType.CHILD_SCHEDULED,
        EventType.CHILD_STARTED,
        EventType.EXECUTION_COMPLETED,
    ]


async def test_a_child_id_that_exists_attaches_or_fails_on_a_different_input(
    any_db_url: str,
) -> None:
    app = _app(any_db_url)

    @app.workflow(name="twice")
    async def twice(ctx: legato.Context) -> list[Any]:
        first = await ctx.child("kid", 7, id="shared")
        again = await ctx.child("kid", 7, id="shared")  # same input: the same execution
        try:
            await ctx.child("kid", 8, id="shared")
        except legato.ChildFailed as exc:
            return [first, again, exc.error_type]
        return [first, again, None]

    async with app:
        client_started = await app.start("kid", 2, id="by-client")
        await client_started.result(timeout=20)
        handle = await app.start(twice, id="twice")
        assert await handle.result(timeout=20) == [49, 49, "ExecutionAlreadyExists"]
        kids = [s for s in await app.list_executions() if s.workflow == "kid"]
    assert sorted(k.id for k in kids) == ["by-client", "shared"]


async def test_a_child_attaches_to_an_execution_a_client_started(any_db_url: str) -> None:
    app = _app(any_db_url)

    @app.workflow(name="adopter")
    async def adopter(ctx: legato.Context) -> int:
        return await ctx.child("kid", 9, id="orphan")  # type: ignore[no-any-return]

    async with app:
        await app.start("kid", 9, id="orphan")
        handle = await app.start(adopter, id="adopter")
        assert await handle.result(timeout=20) == 81
        starts = [
            e
            for e in await app.get_handle("orphan").history()
            if e.type == EventType.EXECUTION_STARTED
        ]
    assert len(starts) == 1
