"""Operating executions on real engines, SQLite and PostgreSQL: cancel (the code and its
running steps see it), terminate, execution timeouts, what children do when their parent
closes, redrive after a fix, and resume after a non-deterministic change is reverted."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

import legato
from legato.core.asl.execution_status import aws_status
from legato.core.events import (
    CancelRequested,
    EventType,
    ExecutionCancelled,
    ExecutionRedriven,
    ExecutionSuspended,
    ExecutionTerminated,
    ExecutionTimedOut,
    StateEntered,
    StepCompleted,
    StepScheduled,
)
from legato.testing import WorkflowEnvironment
from tests.conftest import of_type

Waiter = Callable[[Callable[[], Awaitable[bool]]], Awaitable[None]]
StatusWaiter = Callable[[legato.Handle[Any], legato.Status], Awaitable[legato.ExecutionStatus]]
EventWaiter = Callable[[legato.Handle[Any], EventType], Awaitable[Any]]


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets sync steps stuck in a thread finish when the test ends."""
    event = threading.Event()
    yield event
    event.set()


def until(wait_for: Waiter, check: Callable[[], bool]) -> Awaitable[None]:
    async def holds() -> bool:
        return check()

    return wait_for(holds)


# --- cancel ---------------------------------------------------------------------------------------
async def test_cancel_during_a_running_async_step_the_step_and_the_code_see_it(
    any_db_url: str, wait_for: Waiter
) -> None:
    app = legato.App(any_db_url)
    seen: list[str] = []
    started = asyncio.Event()

    @app.step
    async def slow(order: str) -> str:
        started.set()
        try:
            await asyncio.Event().wait()  # until cancelled
        except asyncio.CancelledError:
            seen.append(f"step cancelled, context says {legato.step_context().cancelled}")
            raise
        return "never"

    @app.step
    async def clean_up(order: str) -> str:
        seen.append(f"cleaned up {order}")
        return "clean"

    @app.workflow(name="cancellable")
    async def cancellable(ctx: legato.Context, order: str) -> str:
        try:
            result: str = await ctx.step(slow, order)
            return result
        except legato.Cancelled as exc:
            seen.append(f"workflow saw: {exc.reason}")
            await ctx.step(clean_up, order)
            raise

    async with app:
        handle = await app.start(cancellable, "o-1", id="cancel-1")
        await asyncio.wait_for(started.wait(), 20)
        await handle.cancel("customer changed their mind")
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=20)
        status = await handle.status()
        history = await handle.history()
    assert failed.value.status == "CANCELLED"
    assert status.status == legato.Status.CANCELLED
    assert seen[0] == "workflow saw: customer changed their mind"
    assert "cleaned up o-1" in seen
    await until(wait_for, lambda: any(s.startswith("step cancelled") for s in seen))
    assert "step cancelled, context says True" in seen
    assert [e.reason for e in of_type(history, CancelRequested)] == ["customer changed their mind"]
    assert of_type(history, ExecutionCancelled)[0].reason == "customer changed their mind"


async def test_a_sync_step_learns_of_the_cancellation_by_its_heartbeat(
    any_db_url: str, release: threading.Event, wait_for: Waiter
) -> None:
    app = legato.App(any_db_url)
    beats: list[str] = []
    running = threading.Event()

    @app.step
    def polling_job(n: int) -> int:
        running.set()
        while not release.is_set():
            try:
                legato.heartbeat({"at": len(beats)})
            except legato.Cancelled:
                beats.append("told to stop")
                raise
            beats.append("beat")
            release.wait(0.01)
        return n

    @app.workflow(name="sync_cancel")
    async def sync_cancel(ctx: legato.Context) -> int:
        result: int = await ctx.step(polling_job, 1)
        return result

    async with app:
        handle = await app.start(sync_cancel, id="sync-cancel")
        await until(wait_for, running.is_set)
        await app.cancel("sync-cancel")
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result(timeout=20)
        await until(wait_for, lambda: "told to stop" in beats)
        assert (await handle.status()).status == legato.Status.CANCELLED


async def test_cancel_while_waiting_for_a_signal_from_a_client_without_an_engine(
    any_db_url: str, wait_event: EventWaiter
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="waits_forever")
    async def waits_forever(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("never")

    async with app:
        handle = await app.start(waits_forever, id="waiting")
        await wait_event(handle, EventType.EXECUTION_STARTED)
        client = legato.App(any_db_url)
        try:
            await client.cancel("waiting")
        finally:
            await client.shutdown()
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result(timeout=20)
        assert (await handle.status()).status == legato.Status.CANCELLED
        with pytest.raises(legato.ExecutionClosed):
            await app.cancel("waiting")
    with pytest.raises(legato.ExecutionNotFound):
        async with app:
            await app.cancel("no-such-execution")


# --- terminate ------------------------------------------------------------------------------------
async def test_terminate_ends_it_at_once_and_drops_the_running_steps_result(
    any_db_url: str, wait_for: Waiter
) -> None:
    app = legato.App(any_db_url)
    started = asyncio.Event()
    finish = asyncio.Event()
    after: list[str] = []

    @app.step
    async def long_step() -> str:
        started.set()
        await finish.wait()
        return "done"

    @app.workflow(name="terminable")
    async def terminable(ctx: legato.Context) -> str:
        try:
            result: str = await ctx.step(long_step)
            return result
        except legato.Cancelled:
            after.append("code ran")  # terminate runs no code: never
            raise

    async with app:
        handle = await app.start(terminable, id="term-1")
        await asyncio.wait_for(started.wait(), 20)
        client = legato.App(any_db_url)  # from another App, with no engine
        try:
            await client.terminate("term-1", "runaway")
        finally:
            await client.shutdown()
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=20)
        finish.set()
        history = await handle.history()
        with pytest.raises(legato.ExecutionClosed):
            await handle.terminate()
    assert failed.value.status == "TERMINATED"
    assert of_type(history, ExecutionTerminated)[0].reason == "runaway"
    assert not of_type(history, StepCompleted)
    assert after == []


async def test_terminate_a_suspended_execution(any_db_url: str, wait_status: StatusWaiter) -> None:
    app = legato.App(any_db_url)
    async with app:
        client_only = legato.App(any_db_url)

        @client_only.workflow(name="only_in_the_client")
        async def only_in_the_client(ctx: legato.Context) -> int:
            return 1

        handle = await client_only.start(only_in_the_client, id="orphan")
        await client_only.shutdown()
        await wait_status(app.get_handle("orphan"), legato.Status.SUSPENDED)
        await app.terminate("orphan", "nobody serves it")
        assert (await app.get_handle("orphan").status()).status == legato.Status.TERMINATED
    del handle


# --- execution timeouts ---------------------------------------------------------------------------
async def test_an_execution_timeout_ends_it_timed_out_with_no_more_code(
    any_db_url: str, wait_event: EventWaiter
) -> None:
    app = legato.App()
    ran: list[str] = []

    @app.workflow(name="sleepy", timeout=60)
    async def sleepy(ctx: legato.Context) -> str:
        await ctx.sleep(3600)
        ran.append("woke")
        return "late"

    async with WorkflowEnvironment(app, url=any_db_url, lease_seconds=3600) as env:
        handle = await app.start(sleepy, id="slow-1")
        await wait_event(handle, EventType.TIMER_STARTED)
        env.clock.advance(61)
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=20)
        history = await handle.history()
        status = await handle.status()
    assert failed.value.status == "TIMED_OUT"
    assert status.error_type == "States.Timeout"
    assert of_type(history, ExecutionTimedOut)[0].timeout_ms == 60_000
    assert ran == []


async def test_a_start_timeout_applies_to_one_execution_even_one_a_client_records(
    any_db_url: str,
) -> None:
    app = legato.App()

    @app.workflow(name="waiter")
    async def waiter(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("go")

    async with WorkflowEnvironment(app, url=any_db_url, lease_seconds=3600):
        client = legato.App(app.url)
        client.registry = app.registry
        try:  # recorded PENDING by a client, picked up by the engine, then times out
            pending = await client.start(waiter, id="pending-timeout", timeout=5)
        finally:
            await client.shutdown()
        no_limit = await app.start(waiter, id="no-limit")
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await app.get_handle(pending.id).result(timeout=30)
        assert failed.value.status == "TIMED_OUT"
        await no_limit.signal("go", "went")
        assert await no_limit.result(timeout=20) == "went"


# --- children when their parent closes ------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "child_status"),
    [
        ("request_cancel", legato.Status.CANCELLED),
        ("terminate", legato.Status.TERMINATED),
        ("abandon", legato.Status.RUNNING),
    ],
)
async def test_open_children_follow_their_close_policy(
    any_db_url: str,
    policy: str,
    child_status: legato.Status,
    wait_event: EventWaiter,
    wait_status: StatusWaiter,
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="child_waits")
    async def child_waits(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("never")

    @app.workflow(name="parent_leaves")
    async def parent_leaves(ctx: legato.Context) -> str:
        await ctx.start_child(child_waits, id="the-child", parent_close_policy=policy)
        return "parent done"

    async with app:
        parent = await app.start(parent_leaves, id="the-parent")
        assert await parent.result(timeout=20) == "parent done"
        child = app.get_handle("the-child")
        await wait_event(child, EventType.EXECUTION_STARTED)
        if child_status != legato.Status.RUNNING:
            await wait_status(child, child_status)
        else:
            await child.signal("never", "still here")
            assert await child.result(timeout=20) == "still here"


# --- redrive --------------------------------------------------------------------------------------
async def test_redrive_a_failed_code_workflow_after_fixing_the_step(any_db_url: str) -> None:
    app = legato.App(any_db_url)
    broken = {"yes": True}
    calls: list[str] = []

    @app.step
    async def first(x: int) -> int:
        calls.append("first")
        return x + 1

    @app.step(retry=legato.Retry(max_attempts=2, initial=0.01))
    async def flaky(x: int) -> int:
        calls.append("flaky")
        if broken["yes"]:
            raise ValueError("bug in flaky")
        return x * 10

    @app.workflow(name="fixable")
    async def fixable(ctx: legato.Context, x: int) -> int:
        y = await ctx.step(first, x)
        result: int = await ctx.step(flaky, y)
        return result

    async with app:
        handle = await app.start(fixable, 1, id="fix-1")
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result(timeout=20)
        assert calls == ["first", "flaky", "flaky"]
        broken["yes"] = False
        redriven = await app.redrive("fix-1")
        assert await redriven.result(timeout=20) == 20
        history = await handle.history()
        with pytest.raises(legato.ExecutionStateError):
            await app.redrive("fix-1")  # COMPLETED now
    assert calls == ["first", "flaky", "flaky", "flaky"]  # first is not run again
    assert [e.count for e in of_type(history, ExecutionRedriven)] == [1]
    assert [e.attempt for e in of_type(history, StepCompleted) if e.name.endswith("flaky")] == [1]


async def test_redrive_a_cancelled_execution_goes_on_as_if_never_cancelled(
    any_db_url: str, wait_event: EventWaiter
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="gate")
    async def gate(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("open")

    async with app:
        handle = await app.start(gate, id="gate-1")
        await wait_event(handle, EventType.EXECUTION_STARTED)
        await handle.cancel()
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result(timeout=20)
        await app.redrive("gate-1")
        await handle.signal("open", "opened")
        assert await handle.result(timeout=20) == "opened"


async def test_redrive_a_state_machine_enters_the_failed_state_again(any_db_url: str) -> None:
    app = legato.App(any_db_url)
    broken = {"yes": True}
    seen: list[Any] = []

    @app.step(name="charge")
    def charge(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        if broken["yes"]:
            raise RuntimeError("card service down")
        return {"charged": event["amount"]}

    definition = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"amount": 5}, "Next": "Charge"},
            "Charge": {
                "Type": "Task",
                "Resource": "charge",
                "Parameters": {"amount.$": "$.amount", "redrives.$": "$$.Execution.RedriveCount"},
                "Retry": [{"ErrorEquals": ["RuntimeError"], "MaxAttempts": 1,
                           "IntervalSeconds": 1}],
                "End": True,
            },
        },
    }  # fmt: skip
    app.register_state_machine("payment", definition)
    async with app:
        handle = await app.start("payment", {}, id="pay-1")
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=30)
        assert failed.value.error_type == "RuntimeError"
        broken["yes"] = False
        await app.redrive("pay-1")
        assert await handle.result(timeout=30) == {"charged": 5}
        history = await handle.history()
    # the failed state's retries ran once (2 attempts); after the redrive it is entered again
    # with a fresh retry budget and sees RedriveCount 1
    assert [e["redrives"] for e in seen] == [0, 0, 1]
    entered = [e.state for e in of_type(history, StateEntered)]
    assert entered == ["Prepare", "Charge", "Charge"]


# --- resume ---------------------------------------------------------------------------------------
async def test_resume_after_reverting_a_non_deterministic_change(
    any_db_url: str, wait_event: EventWaiter, wait_status: StatusWaiter
) -> None:
    def make_app(step_name: str) -> legato.App:
        app = legato.App(any_db_url)

        @app.step(name=step_name)
        async def act(x: int) -> int:
            return x + 1

        @app.workflow(name="evolving")
        async def evolving(ctx: legato.Context) -> int:
            first: int = await ctx.step(act, 1)
            await ctx.wait_for_signal("go")
            second: int = await ctx.step(act, first)
            return second

        return app

    good = make_app("act_v1")
    async with good:
        handle = await good.start("evolving", id="evolve-1")
        await wait_event(handle, EventType.STEP_COMPLETED)
    bad = make_app("act_v2")  # renames the step: no longer matches the history
    async with bad:
        await bad.signal("evolve-1", "go")
        status = await wait_status(bad.get_handle("evolve-1"), legato.Status.SUSPENDED)
        assert "non-determinism" in (status.reason or "")
    reverted = make_app("act_v1")
    async with reverted:
        resumed = await reverted.resume("evolve-1")
        assert await resumed.result(timeout=20) == 3
        history = await resumed.history()
        with pytest.raises(legato.ExecutionStateError):
            await reverted.resume("evolve-1")
    assert len(of_type(history, ExecutionSuspended)) == 1
    assert [e.name for e in of_type(history, StepScheduled)] == ["act_v1", "act_v1"]


async def test_an_engine_with_new_code_retries_suspended_executions_by_itself(
    any_db_url: str, wait_event: EventWaiter, wait_status: StatusWaiter
) -> None:
    def make_app(step_name: str, code: str) -> legato.App:
        app = legato.App(any_db_url)

        @app.step(name=step_name)
        async def act(x: int) -> int:
            return x + 1

        async def evolving(ctx: legato.Context) -> int:
            first: int = await ctx.step(act, 1)
            await ctx.wait_for_signal("go")
            return first

        app.registry.add_workflow(evolving, "evolving", "1", code_hash=code)
        return app

    async with make_app("act_v1", "code-a") as first:
        handle = await first.start("evolving", id="auto-1")
        await wait_event(handle, EventType.STEP_COMPLETED)
    async with make_app("act_v2", "code-b") as broken:
        await broken.signal("auto-1", "go")
        await wait_status(broken.get_handle("auto-1"), legato.Status.SUSPENDED)
    async with make_app("act_v2", "code-b") as same:  # the same code: it stays suspended
        await asyncio.sleep(0)
        assert (await same.get_handle("auto-1").status()).status == legato.Status.SUSPENDED
    async with make_app("act_v1", "code-c") as fixed:  # other code: retried by itself
        handle = fixed.get_handle("auto-1")
        await wait_status(handle, legato.Status.COMPLETED)
        assert await handle.result(timeout=20) == 2


async def test_a_cancelled_state_machine_stops_and_reads_aborted_to_aws(
    any_db_url: str, wait_event: EventWaiter
) -> None:
    app = legato.App(any_db_url)
    definition = {
        "StartAt": "Hold",
        "States": {
            "Hold": {"Type": "Wait", "Seconds": 86_400, "Next": "After"},
            "After": {"Type": "Pass", "End": True},
        },
    }
    app.register_state_machine("holding", definition)
    async with app:
        handle = await app.start("holding", {}, id="hold-1")
        await wait_event(handle, EventType.TIMER_STARTED)
        await handle.cancel("not needed")
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result(timeout=20)
        status = await handle.status()
        history = await handle.history()
    assert status.status == legato.Status.CANCELLED
    assert aws_status(status.status) == "ABORTED"
    assert [e.state for e in of_type(history, StateEntered)] == ["Hold"]


async def test_a_step_no_worker_starts_in_time_fails_its_schedule_to_start_timeout(
    any_db_url: str,
) -> None:
    # No worker serves "gpu", so the outcome does not depend on how long anything takes.
    app = legato.App(any_db_url)

    @app.step(queue="gpu", schedule_to_start_timeout=0.2)
    async def render(frame: int) -> str:
        return f"frame {frame}"

    @app.workflow(name="render_job")
    async def render_job(ctx: legato.Context) -> str:
        try:
            return str(await ctx.step(render, 1))
        except legato.StepFailed as exc:
            return f"{exc.error_type}: {exc.message}"

    await app.start_engine(queues=["default"])
    try:
        handle = await app.start(render_job, id="render-1")
        result = await handle.result(timeout=30)
        history = await handle.history()
    finally:
        await app.shutdown()
    assert result.startswith("States.Timeout: step")
    assert "schedule-to-start" in result
    assert not any(e.type == EventType.STEP_RETRY_SCHEDULED for e in history)  # not retried


async def test_an_engine_that_takes_over_finds_the_start_deadlines_of_its_new_partitions(
    any_db_url: str, wait_event: EventWaiter
) -> None:
    def make_app() -> legato.App:
        app = legato.App(any_db_url)

        @app.step(name="render", queue="gpu", schedule_to_start_timeout=2.0)
        async def render(frame: int) -> str:
            return f"frame {frame}"

        @app.workflow(name="render_later")
        async def render_later(ctx: legato.Context) -> str:
            try:
                return str(await ctx.step(render, 1))
            except legato.StepFailed as exc:
                return exc.error_type

        return app

    first = make_app()
    await first.start_engine(queues=["default"])
    try:
        handle = await first.start("render_later", id="render-2")
        await wait_event(handle, EventType.STEP_SCHEDULED)
    finally:
        await first.shutdown()  # before the deadline: the next engine must find it
    second = make_app()
    await second.start_engine(queues=["default"])
    try:
        assert await second.get_handle("render-2").result(timeout=30) == "States.Timeout"
    finally:
        await second.shutdown()


async def test_a_handle_in_the_engine_sees_a_terminate_made_by_another_process(
    any_db_url: str, wait_event: EventWaiter
) -> None:
    app = legato.App(any_db_url)

    @app.workflow(name="idle")
    async def idle(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("never")  # no step runs: nothing else wakes the engine

    async with app:
        handle = await app.start(idle, id="idle-1")
        await wait_event(handle, EventType.EXECUTION_STARTED)
        waiting = asyncio.ensure_future(handle.result(timeout=30))
        other = legato.App(any_db_url)  # as `legato executions terminate` does
        try:
            await other.terminate("idle-1", "from the command line")
        finally:
            await other.shutdown()
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await waiting
    assert failed.value.status == "TERMINATED"
