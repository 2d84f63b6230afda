"""ctx.gather over steps and coroutines, and what a workflow may await."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import legato
from legato.core.events import StepScheduled
from legato.testing import WorkflowEnvironment
from tests.conftest import of_type


async def test_gather_of_steps_schedules_them_together_and_keeps_order(any_db_url: str) -> None:
    app = legato.App()
    done: list[str] = []
    finished = {key: asyncio.Event() for key in "abc"}

    @app.step(name="fetch")
    async def fetch(key: str, after: str | None) -> str:
        if after is not None:  # finish in the reverse order of scheduling
            await finished[after].wait()
        done.append(key)
        finished[key].set()
        return key.upper()

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[str]:
        return await ctx.gather(  # type: ignore[no-any-return]
            ctx.step(fetch, "a", "b"), ctx.step(fetch, "b", "c"), ctx.step(fetch, "c", None)
        )

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        assert await handle.result(timeout=20) == ["A", "B", "C"]
        history = await handle.history()

    assert done == ["c", "b", "a"]
    scheduled = of_type(history, StepScheduled)
    assert [e.ref for e in scheduled] == [1, 2, 3]
    assert len({e.batch for e in scheduled}) == 1  # one decision scheduled all three


async def test_gather_of_coroutines_and_steps_mixed(any_db_url: str) -> None:
    app = legato.App()

    @app.step(name="double")
    async def double(x: int) -> int:
        return 2 * x

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        async def branch(x: int, wait: int) -> int:
            await ctx.sleep(wait)
            y = await ctx.step(double, x)
            z: int = await ctx.step(double, y)
            return z

        return await ctx.gather(  # type: ignore[no-any-return]
            branch(1, 300), ctx.step(double, 100), branch(2, 10), ctx.gather(branch(3, 0))
        )

    async with WorkflowEnvironment(app, url=any_db_url):
        assert await (await app.start(wf)).result() == [4, 200, 8, [12]]


async def test_gather_of_nothing(any_db_url: str) -> None:
    app = legato.App()

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        return await ctx.gather()  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url):
        assert await (await app.start(wf)).result() == []


@pytest.mark.parametrize("in_coroutine", [False, True], ids=["step", "coroutine"])
async def test_gather_raises_step_failed_when_one_fails(
    any_db_url: str, in_coroutine: bool
) -> None:
    app = legato.App()
    runs: list[str] = []

    @app.step(name="ok")
    async def ok(x: int) -> int:
        runs.append(f"ok {x}")
        return x

    @app.step(name="bad", retry=legato.Retry.none())
    async def bad() -> int:
        runs.append("bad")
        raise PermissionError("no access")

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[Any]:
        async def wrapped() -> int:
            await ctx.step(ok, 2)
            return await ctx.step(bad)  # type: ignore[no-any-return]

        failing = wrapped() if in_coroutine else ctx.step(bad)
        try:
            await ctx.gather(ctx.step(ok, 1), failing, ctx.step(ok, 3))
        except legato.StepFailed as exc:
            return ["caught", exc.step, exc.error_type, exc.message]
        return ["no failure"]

    async with WorkflowEnvironment(app, url=any_db_url):
        assert await (await app.start(wf)).result() == [
            "caught",
            "bad",
            "PermissionError",
            "no access",
        ]
    assert runs.count("bad") == 1


async def test_uncaught_failure_in_gather_fails_the_execution(any_db_url: str) -> None:
    app = legato.App()

    @app.step(name="bad", retry=legato.Retry.none())
    async def bad(x: int) -> int:
        raise ArithmeticError(f"cannot {x}")

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> list[int]:
        return await ctx.gather(ctx.step(bad, 1))  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result()
        status = await handle.status()
    assert (status.status, status.error_type) == (legato.Status.FAILED, "ArithmeticError")
    assert status.error_message == "step 'bad' failed after 1 attempt(s): ArithmeticError: cannot 1"


@pytest.mark.parametrize("how", ["await", "gather"])
async def test_awaiting_asyncio_in_a_workflow_is_a_usage_error(any_db_url: str, how: str) -> None:
    app = legato.App()

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> str:
        if how == "await":
            await asyncio.sleep(1)
        else:
            await ctx.gather(asyncio.sleep(1))
        return "not reached"

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result()
        status = await handle.status()
    assert status.error_type == "WorkflowUsageError"
    assert "ctx.step(), ctx.sleep(), ctx.gather()" in (status.error_message or "")


async def test_unregistered_step_is_a_registration_error(any_db_url: str) -> None:
    app = legato.App()

    async def not_a_step() -> int:
        return 1

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> int:
        return await ctx.step(not_a_step)  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result()
        status = await handle.status()
    assert status.error_type == "RegistrationError"
    assert "not_a_step is not a registered step" in (status.error_message or "")
