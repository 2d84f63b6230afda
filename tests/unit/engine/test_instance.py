"""A workflow instance on its own (legato.engine.instance): commands out, events in, replay.

No store and no loop: histories are built by hand, as the orchestrator would record them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from legato.core.commands import CompleteExecution, FailExecution, ScheduleStep, StartTimer
from legato.core.events import (
    Event,
    ExecutionStarted,
    StepCompleted,
    StepScheduled,
    TimerFired,
    TimerStarted,
)
from legato.engine.instance import WorkflowInstance
from legato.engine.registry import Registry
from legato.errors import NonDeterminismError


def make(body: Callable[..., Any]) -> tuple[Registry, Any]:
    reg = Registry()

    async def reserve(n: int) -> str:
        return f"r-{n}"

    async def charge(r: str) -> str:
        return r

    reg.add_step(reserve, "reserve", None, None, None, None)
    reg.add_step(charge, "charge", None, None, None, None)
    steps = {"reserve": reserve, "charge": charge}

    async def orders(ctx: Any, n: int) -> Any:
        return await body(ctx, steps, n)

    return reg, reg.add_workflow(orders, "orders", "1")


async def original(ctx: Any, s: Any, n: int) -> str:
    r = await ctx.step(s["reserve"], n)
    await ctx.sleep(60)
    return await ctx.step(s["charge"], r)  # type: ignore[no-any-return]


def history() -> list[Event]:
    """``original`` with n=7, up to (and including) the timer firing and charge scheduled."""
    return [
        ExecutionStarted(1_000, "orders", "[[7],{}]", "1", seq=1, batch=1),
        StepScheduled(1_000, 1, "reserve", "[[7],{}]", "default", seq=2, batch=1),
        StepCompleted(2_000, 1, "reserve", '"r-7"', 1, seq=3, batch=3),
        TimerStarted(2_000, 2, "sleep", 62_000, seq=4, batch=3),
        TimerFired(62_000, 2, seq=5, batch=5),
        StepScheduled(62_000, 3, "charge", '[["r-7"],{}]', "default", seq=6, batch=5),
    ]


def test_live_run_issues_commands_in_order() -> None:
    reg, wf = make(original)
    inst = WorkflowInstance(wf, reg, "e-1")
    assert inst.start("[[7],{}]", 1_000).commands == (
        ScheduleStep(1, "reserve", "default", "[[7],{}]"),
    )
    done = StepCompleted(2_000, 1, "reserve", '"r-7"', 1)
    first = inst.activate([done], 2_000)
    assert first.commands == (StartTimer(2, 62_000),) and first.accepted == (done,)
    # a duplicate of an input already seen is not accepted again
    again = inst.activate([done], 2_500)
    assert (again.commands, again.accepted) == ((), ())
    fired = inst.activate([TimerFired(62_000, 2)], 62_000)
    assert fired.commands == (ScheduleStep(3, "charge", "default", '[["r-7"],{}]'),)
    paid = inst.activate([StepCompleted(63_000, 3, "charge", '"paid"', 1)], 63_000)
    assert paid.commands == (CompleteExecution('"paid"'),)
    inst.close()


def test_replay_of_a_matching_history_returns_only_what_is_missing() -> None:
    reg, wf = make(original)
    inst = WorkflowInstance(wf, reg, "e-1")
    assert inst.replay(history()) == ()
    assert inst.seq == 6
    # waits for charge, as the live run did
    assert [ref for ref in range(1, 5) if inst.waits.waits_for(ref)] == [3]
    paid = inst.activate([StepCompleted(63_000, 3, "charge", '"paid"', 1)], 63_000)
    assert paid.commands == (CompleteExecution('"paid"'),)


def test_replay_that_stops_before_a_command_was_recorded_issues_it() -> None:
    reg, wf = make(original)
    inst = WorkflowInstance(wf, reg, "e-1")
    # the timer fired but the transition scheduling charge was never written
    assert inst.replay(history()[:5]) == (ScheduleStep(3, "charge", "default", '[["r-7"],{}]'),)


async def charge_first(ctx: Any, s: Any, n: int) -> Any:
    return await ctx.step(s["charge"], "x")


async def sleep_first(ctx: Any, s: Any, n: int) -> Any:
    await ctx.sleep(60)


async def no_timer(ctx: Any, s: Any, n: int) -> Any:
    return await ctx.step(s["charge"], await ctx.step(s["reserve"], n))


async def returns(ctx: Any, s: Any, n: int) -> Any:
    return await ctx.step(s["reserve"], n)


async def other_sleep_length(ctx: Any, s: Any, n: int) -> Any:
    r = await ctx.step(s["reserve"], n)
    await ctx.sleep(3600)  # a different duration is the same command: not a divergence
    return await ctx.step(s["charge"], r)


@pytest.mark.parametrize(
    ("body", "where", "recorded", "now"),
    [
        (charge_first, "command #1", "step 'reserve'", "step 'charge'"),
        (sleep_first, "command #1", "step 'reserve'", "a timer (ctx.sleep)"),
        (no_timer, "command #2", "a timer (ctx.sleep)", "step 'charge'"),
        (returns, "command #2", "a timer (ctx.sleep)", "return from the workflow"),
    ],
)
def test_replay_reports_the_first_divergence(
    body: Callable[..., Any], where: str, recorded: str, now: str
) -> None:
    reg, wf = make(body)
    inst = WorkflowInstance(wf, reg, "e-1")
    with pytest.raises(NonDeterminismError) as info:
        inst.replay(history())
    assert (info.value.step, info.value.recorded, info.value.now) == (where, recorded, now)
    inst.close()


def test_changed_arguments_or_durations_are_not_divergences() -> None:
    reg, wf = make(other_sleep_length)
    assert WorkflowInstance(wf, reg, "e-1").replay(history()) == ()


def test_replay_of_an_input_the_code_no_longer_accepts() -> None:
    reg = Registry()

    async def typed(ctx: Any, n: dict[str, int]) -> int:
        return 0

    wf = reg.add_workflow(typed, "typed", "1")
    with pytest.raises(NonDeterminismError) as info:
        WorkflowInstance(wf, reg, "e-1").replay(history()[:1])
    assert info.value.step == "the workflow input"


def test_workflow_exception_becomes_fail_execution() -> None:
    async def broken(ctx: Any, s: Any, n: int) -> Any:
        raise KeyError(n)

    reg, wf = make(broken)
    [cmd] = WorkflowInstance(wf, reg, "e-1").start("[[7],{}]", 1_000).commands
    assert isinstance(cmd, FailExecution)
    assert (cmd.error_type, cmd.message) == ("KeyError", "7")
    assert "KeyError: 7" in cmd.traceback


def test_ctx_values_depend_only_on_execution_id_and_event_time() -> None:
    def values(execution_id: str, ts: int) -> list[Any]:
        reg = Registry()

        async def draw(ctx: Any) -> list[Any]:
            return [ctx.now().timestamp(), str(ctx.uuid()), ctx.random(), str(ctx.uuid())]

        wf = reg.add_workflow(draw, "draw", "1")
        [cmd] = WorkflowInstance(wf, reg, execution_id).start("[[],{}]", ts).commands
        assert isinstance(cmd, CompleteExecution)
        return cmd.result  # type: ignore[return-value]

    assert values("e-1", 5_000) == values("e-1", 5_000)
    assert values("e-1", 5_000) != values("e-2", 5_000)
    assert values("e-1", 5_000) != values("e-1", 6_000)
