"""The deterministic workflow scheduler (legato.engine.scheduler): no asyncio loop involved."""

from __future__ import annotations

from typing import Any

import pytest

from legato.engine.scheduler import Diverged, Scheduler, WFuture
from legato.errors import WorkflowUsageError


def test_future_resolves_once() -> None:
    fut = WFuture()
    seen: list[Any] = []
    fut.add_done_callback(lambda: seen.append(fut.value))
    fut.resolve(1)
    fut.resolve(2)
    fut.fail(RuntimeError("late"))
    assert (fut.done, fut.value, fut.error, seen) == (True, 1, None, [1])


def test_callback_added_after_completion_runs_at_once() -> None:
    fut = WFuture()
    fut.fail(KeyError("k"))
    seen: list[str] = []
    fut.add_done_callback(lambda: seen.append("ran"))
    assert seen == ["ran"]
    assert isinstance(fut.error, KeyError)


def test_coroutine_runs_until_blocked_and_resumes_with_the_value() -> None:
    sched = Scheduler()
    gate = WFuture()
    log: list[str] = []

    async def body() -> int:
        log.append("start")
        x: int = await gate
        log.append(f"got {x}")
        return x * 2

    result = sched.spawn(body())
    sched.run_until_blocked()
    assert log == ["start"] and not result.done
    gate.resolve(21)
    assert not result.done  # nothing runs outside run_until_blocked
    sched.run_until_blocked()
    assert log == ["start", "got 21"]
    assert (result.done, result.value) == (True, 42)


def test_wake_order_is_registration_order() -> None:
    sched = Scheduler()
    gate = WFuture()
    order: list[int] = []

    async def waiter(i: int) -> None:
        await gate
        order.append(i)

    for i in range(5):
        sched.spawn(waiter(i))
    sched.run_until_blocked()
    gate.resolve(None)
    sched.run_until_blocked()
    assert order == [0, 1, 2, 3, 4]


def test_exception_in_workflow_code_fails_its_future() -> None:
    sched = Scheduler()

    async def body() -> None:
        raise ValueError("bad order")

    result = sched.spawn(body())
    sched.run_until_blocked()
    assert isinstance(result.error, ValueError) and str(result.error) == "bad order"


def test_failed_future_raises_inside_the_coroutine_and_can_be_caught() -> None:
    sched = Scheduler()
    gate = WFuture()

    async def body() -> str:
        try:
            await gate
        except KeyError as exc:
            return f"caught {exc.args[0]}"
        return "not reached"

    result = sched.spawn(body())
    sched.run_until_blocked()
    gate.fail(KeyError("k1"))
    sched.run_until_blocked()
    assert result.value == "caught k1"


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([("ok", 1), ("ok", 2), ("ok", 3)], [1, 2, 3]),
        ([("ok", "a")], ["a"]),
        ([("fail", "boom"), ("ok", 2)], "boom"),
        ([("ok", 1), ("fail", "second")], "second"),
    ],
)
def test_gather_results_in_order_or_first_failure(
    outcomes: list[tuple[str, Any]], expected: Any
) -> None:
    sched = Scheduler()
    futures = [WFuture() for _ in outcomes]
    out = sched.gather(*futures)
    # complete in reverse order: results still come back in argument order
    for fut, (kind, value) in reversed(list(zip(futures, outcomes, strict=True))):
        if kind == "ok":
            fut.resolve(value)
        else:
            fut.fail(RuntimeError(value))
    assert out.done
    if isinstance(expected, list):
        assert out.value == expected
    else:
        assert str(out.error) == expected


def test_gather_of_nothing_is_an_empty_list() -> None:
    out = Scheduler().gather()
    assert (out.done, out.value) == (True, [])


def test_gather_runs_coroutines_as_tasks() -> None:
    sched = Scheduler()
    gates = [WFuture(), WFuture()]

    async def child(i: int) -> int:
        value: int = await gates[i]
        return value + 100

    async def parent() -> list[int]:
        return await sched.gather(child(0), child(1))  # type: ignore[no-any-return]

    result = sched.spawn(parent())
    sched.run_until_blocked()
    gates[1].resolve(2)
    gates[0].resolve(1)
    sched.run_until_blocked()
    assert result.value == [101, 102]


def test_gather_rejects_foreign_awaitables() -> None:
    class Foreign:
        def __await__(self):  # type: ignore[no-untyped-def]
            yield None

    with pytest.raises(WorkflowUsageError, match="Foreign"):
        Scheduler().gather(Foreign())


def test_awaiting_a_non_workflow_awaitable_raises_usage_error_in_the_workflow() -> None:
    sched = Scheduler()

    class Foreign:
        def __await__(self):  # type: ignore[no-untyped-def]
            yield "asyncio-ish"

    async def body() -> str:
        try:
            await Foreign()
        except WorkflowUsageError as exc:
            return str(exc)
        return "not reached"

    result = sched.spawn(body())
    sched.run_until_blocked()
    assert "awaited str" in result.value


def test_diverged_escapes_user_except_blocks() -> None:
    sched = Scheduler()

    async def body() -> str:
        try:
            raise Diverged()
        except Exception:  # user code cannot swallow it
            return "swallowed"

    result = sched.spawn(body())
    with pytest.raises(Diverged):
        sched.run_until_blocked()
    assert isinstance(result.error, Diverged)


def test_close_closes_blocked_coroutines() -> None:
    sched = Scheduler()
    gate = WFuture()
    cleaned: list[str] = []

    async def body() -> None:
        try:
            await gate
        finally:
            cleaned.append("finally ran")

    sched.spawn(body())
    sched.run_until_blocked()
    sched.close()
    assert cleaned == ["finally ran"]


def test_an_error_thrown_in_a_blocked_coroutine_raises_at_its_await_once() -> None:
    scheduler = Scheduler()
    first, second = WFuture(), WFuture()
    seen: list[str] = []

    async def code() -> str:
        try:
            await first
        except KeyError as exc:
            seen.append(f"raised {exc}")
        seen.append(f"then {await second}")
        return "done"

    result = scheduler.spawn(code())
    scheduler.run_until_blocked()
    assert scheduler.throw(result, KeyError("stop"))
    scheduler.run_until_blocked()
    assert seen == ["raised 'stop'"]
    first.resolve("late")  # the future it no longer waits for: wakes nothing
    scheduler.run_until_blocked()
    assert seen == ["raised 'stop'"]
    second.resolve("next")
    scheduler.run_until_blocked()
    assert seen == ["raised 'stop'", "then next"] and result.value == "done"
    assert not scheduler.throw(result, KeyError("too late"))  # finished: nothing to raise in
