"""Each state's progress from a real execution's history (``core/asl/state_progress.py``):
machines run on the engine (``run_state_machine``), then their histories read back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from legato import App, ExecutionFailedError
from legato.core.asl.state_progress import progress, statuses, taken
from legato.core.events import Event, TimerStarted
from legato.core.export import import_history
from legato.testing import WorkflowEnvironment, run_state_machine


class Boom(Exception):
    pass


class Declined(Exception):
    pass


def failing(times: int, error: type[Exception] = Boom) -> Any:
    """A step that fails ``times`` times, then returns its input."""
    calls = [0]

    def step(value: Any) -> Any:
        calls[0] += 1
        if calls[0] <= times:
            raise error(f"failure {calls[0]}")
        return value

    return step


def ok(value: Any) -> Any:
    return value


ORDER: dict[str, Any] = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.big", "BooleanEquals": True, "Next": "Approve"}],
            "Default": "Charge",
        },
        "Approve": {"Type": "Task", "Resource": "approve", "Next": "Charge"},
        "Charge": {
            "Type": "Task",
            "Resource": "charge",
            "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["Declined"], "Next": "Tell"}],
            "Next": "Ship",
        },
        "Ship": {"Type": "Task", "Resource": "ship", "End": True},
        "Tell": {"Type": "Pass", "Next": "Stop"},
        "Stop": {"Type": "Fail", "Error": "Declined"},
    },
}


async def _run(definition: dict[str, Any], input: Any, **steps: Any) -> list[Event]:
    run = await run_state_machine(definition, input, steps=steps)
    return run.history


async def test_a_clean_run_succeeds_and_skips_what_it_did_not_take() -> None:
    history = await _run(ORDER, {"big": False}, approve=ok, charge=ok, ship=ok)
    assert statuses(progress(ORDER, history)) == {
        "Check": "succeeded", "Approve": "not_reached", "Charge": "succeeded",
        "Ship": "succeeded", "Tell": "not_reached", "Stop": "not_reached",
    }  # fmt: skip


async def test_a_retried_task_then_success() -> None:
    history = await _run(ORDER, {"big": True}, approve=ok, charge=failing(2), ship=ok)
    found = progress(ORDER, history)
    assert found["Charge"].status == "retried"
    assert (found["Charge"].entered, found["Charge"].retries, found["Charge"].error) == (
        1, 2, "Boom"
    )  # fmt: skip
    assert statuses(found)["Ship"] == "succeeded" and statuses(found)["Approve"] == "succeeded"


async def test_retries_run_out_and_the_task_fails() -> None:
    history = await _run(ORDER, {"big": False}, charge=failing(5), ship=ok)
    found = statuses(progress(ORDER, history))
    assert found["Charge"] == "failed" and found["Ship"] == "not_reached"


async def test_a_caught_error_then_a_fail_state() -> None:
    history = await _run(ORDER, {"big": False}, charge=failing(1, Declined), ship=ok)
    found = statuses(progress(ORDER, history))
    assert (found["Charge"], found["Tell"], found["Stop"], found["Ship"]) == (
        "caught", "succeeded", "failed", "not_reached"
    )  # fmt: skip
    assert taken(history) == {("Check", "Charge"), ("Charge", "Tell"), ("Tell", "Stop")}


async def test_a_choice_with_no_match_fails() -> None:
    machine = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.x", "NumericEquals": 1, "Next": "D"}]},
            "D": {"Type": "Succeed"},
        },
    }  # fmt: skip
    history = await _run(machine, {"x": 2})
    assert statuses(progress(machine, history)) == {"C": "failed", "D": "not_reached"}


PARALLEL: dict[str, Any] = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Good", "States": {"Good": {"Type": "Task", "Resource": "good",
                                                        "End": True}}},
                {"StartAt": "Bad", "States": {"Bad": {"Type": "Task", "Resource": "bad",
                                                      "End": True}}},
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            "Next": "Done",
        },
        "Recover": {"Type": "Pass", "End": True},
        "Done": {"Type": "Succeed"},
    },
}  # fmt: skip


async def test_a_failed_branch_fails_inside_and_the_parallel_is_caught() -> None:
    history = await _run(PARALLEL, {}, good=ok, bad=failing(1))
    found = statuses(progress(PARALLEL, history))
    assert (found["Both"], found["Bad"], found["Recover"], found["Done"]) == (
        "caught", "failed", "succeeded", "not_reached"
    )  # fmt: skip
    assert found["Good"] in ("succeeded", "failed")  # done, or stopped with its Parallel


async def test_a_parallel_that_succeeds() -> None:
    history = await _run(PARALLEL, {}, good=ok, bad=ok)
    found = statuses(progress(PARALLEL, history))
    assert (found["Both"], found["Good"], found["Bad"], found["Done"], found["Recover"]) == (
        "succeeded", "succeeded", "succeeded", "succeeded", "not_reached"
    )  # fmt: skip


MAP: dict[str, Any] = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "Work", "States": {"Work": {
                "Type": "Task", "Resource": "work", "End": True,
                "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 1}]}}},
            "End": True,
        }
    },
}  # fmt: skip


async def test_a_map_counts_every_item() -> None:
    history = await _run(MAP, {"items": [1, 2, 3]}, work=failing(1))
    found = progress(MAP, history)
    assert found["Each"].status == "succeeded"
    assert (found["Work"].status, found["Work"].entered, found["Work"].retries) == (
        "retried", 3, 1
    )  # fmt: skip


def test_no_history_is_nothing_reached() -> None:
    found = progress(ORDER, [])
    assert set(statuses(found).values()) == {"not_reached"}
    assert list(found) == ["Check", "Approve", "Charge", "Ship", "Tell", "Stop"]


SIMPLE: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "charge", "Next": "Ship"},
        "Ship": {"Type": "Succeed"},
    },
}


async def test_running_then_failed_then_redriven() -> None:
    app = App()
    entered, gate, broken = asyncio.Event(), asyncio.Event(), [True]

    async def charge(value: Any) -> Any:
        entered.set()
        await gate.wait()
        if broken[0]:
            raise Boom("card reader down")
        return value

    app.registry.add_step(charge, "charge", None, None, None, None)
    app.register_state_machine("simple", SIMPLE)
    async with WorkflowEnvironment(app):
        handle = await app.start("simple", {})
        await asyncio.wait_for(entered.wait(), 10)
        running = progress(SIMPLE, await handle.history())
        assert statuses(running) == {
            "Prepare": "succeeded", "Charge": "running", "Ship": "not_reached"
        }  # fmt: skip
        gate.set()
        with pytest.raises(ExecutionFailedError):
            await handle.result(timeout=10)
        failed = progress(SIMPLE, await handle.history())
        assert (failed["Charge"].status, failed["Charge"].error) == ("failed", "Boom")
        broken[0] = False
        await app.redrive(handle.id)
        await handle.result(timeout=10)
        redriven = progress(SIMPLE, await handle.history())
    assert statuses(redriven) == {"Prepare": "succeeded", "Charge": "retried", "Ship": "succeeded"}
    assert redriven["Charge"].retries == 1 and redriven["Charge"].entered == 1


async def test_waiting_to_retry_is_retried_and_a_stopped_state_failed(db_url: str) -> None:
    machine: dict[str, Any] = {
        "StartAt": "Charge",
        "States": {"Charge": {
            "Type": "Task", "Resource": "charge", "End": True,
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3600}]}},
    }  # fmt: skip
    app = App(db_url)  # the wall clock: the retry waits its hour
    app.registry.add_step(failing(10), "charge", None, None, None, None)
    app.register_state_machine("slow", machine)
    async with app:
        handle = await app.start("slow", {})
        for _ in range(500):  # until the first attempt failed and its retry waits
            history = await handle.history()
            if any(isinstance(e, TimerStarted) for e in history):
                break
            await asyncio.sleep(0.01)
        waiting = progress(machine, history)
        await app.cancel(handle.id)
        with pytest.raises(ExecutionFailedError):
            await handle.result(timeout=10)
        stopped = progress(machine, await handle.history())
    assert (waiting["Charge"].status, waiting["Charge"].retries) == ("retried", 1)
    assert stopped["Charge"].status == "failed"


async def test_a_parallel_retried_as_a_whole() -> None:
    machine = json.loads(json.dumps(PARALLEL))
    machine["States"]["Both"]["Retry"] = [{"ErrorEquals": ["Boom"], "IntervalSeconds": 1}]
    history = await _run(machine, {}, good=ok, bad=failing(1))
    found = progress(machine, history)
    assert (found["Both"].status, found["Both"].retries) == ("retried", 1)
    assert (found["Bad"].status, found["Bad"].entered) == ("retried", 2)  # failed, then ok
    assert statuses(found)["Done"] == "succeeded"


async def test_a_child_execution_task_caught() -> None:
    machine: dict[str, Any] = {
        "StartAt": "Child",
        "States": {
            "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
                      "Parameters": {"StateMachineArn": "inner", "Input": {}},
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                      "Next": "Done"},
            "Handled": {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"},
        },
    }  # fmt: skip
    app = App()
    app.register_state_machine(
        "inner", {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope"}}}
    )
    run = await run_state_machine(machine, {}, app=app)
    assert statuses(progress(machine, run.history)) == {
        "Child": "caught", "Handled": "succeeded", "Done": "not_reached"
    }  # fmt: skip


GOLDEN = Path(__file__).parent.parent / "golden"


@pytest.mark.parametrize(
    ("history", "machine", "expected"),
    [
        ("payment", "payment", {"Charge": ("retried", 1, 1, "GatewayBusy"),
                                "Ship": ("caught", 1, 1, "CarrierDown"),
                                "ShipLater": ("succeeded", 1, 0, None),
                                "Shipped": ("not_reached", 0, 0, None)}),
        ("family__2", "refusal", {"Check": ("succeeded", 1, 0, None),
                                  "Refuse": ("failed", 1, 0, None),
                                  "Accept": ("not_reached", 0, 0, None)}),
        ("stocking", "stocking", {"Lines": ("succeeded", 1, 0, None),
                                  "Stock": ("succeeded", 3, 0, None)}),
    ],
)  # fmt: skip
def test_recorded_histories(
    history: str, machine: str, expected: dict[str, tuple[str, int, int, str | None]]
) -> None:
    """The golden histories (``tests/golden``): the recorded history format, read as is."""
    data = json.loads((GOLDEN / "histories" / f"{history}.json").read_text())
    definition = yaml.safe_load((GOLDEN / "machines" / f"{machine}.asl.yaml").read_text())
    found = progress(definition, import_history(data)[3])
    assert {k: (p.status, p.entered, p.retries, p.error) for k, p in found.items()} == expected


async def test_a_task_token_refused_then_retried_then_sent() -> None:
    machine: dict[str, Any] = {
        "StartAt": "Ask",
        "States": {
            "Ask": {"Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}},
                    "Retry": [{"ErrorEquals": ["Rejected"], "IntervalSeconds": 1}],
                    "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }  # fmt: skip
    app = App()
    tokens: asyncio.Queue[str] = asyncio.Queue()

    @app.step(name="ask")
    def ask(event: dict[str, Any]) -> str:
        tokens.put_nowait(event["token"])
        return "asked"

    app.register_state_machine("ask", machine)
    async with WorkflowEnvironment(app):
        handle = await app.start("ask", {})
        await app.send_task_failure(await asyncio.wait_for(tokens.get(), 10), "Rejected", "no")
        await app.send_task_success(await asyncio.wait_for(tokens.get(), 10), {"ok": True})
        await handle.result(timeout=10)
        found = progress(machine, await handle.history())
    assert (found["Ask"].status, found["Ask"].retries, found["Ask"].error) == (
        "retried", 1, "Rejected"
    )  # fmt: skip
    assert found["Done"].status == "succeeded"
