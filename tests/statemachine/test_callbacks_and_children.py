"""Task states that wait outside their step: ``.waitForTaskToken`` callbacks (developer guide,
"Wait for a Callback with Task Token") and child executions (developer guide, "Start a new AWS
Step Functions state machine execution"; and Legato's ``legato:workflow:NAME``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import legato
from legato.testing import WorkflowEnvironment

CHILD_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:Child"
# Developer guide, "Accessing execution data from the Context object": an execution's ARN is
# arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME (the app's defaults, AWS's example ones).
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:Child"


def _app() -> tuple[legato.App, list[str]]:
    app = legato.App()
    tokens: list[str] = []

    @app.step(name="ask")
    def ask(event: dict[str, Any]) -> str:
        tokens.append(event["token"])
        return "asked"  # ignored: the state's result is what the callback sends

    @app.step(name="double")
    def double(n: int) -> int:
        if n < 0:
            raise ValueError("negative")
        return n * 2

    app.register_state_machine(
        "Child",
        {
            "StartAt": "D",
            "States": {"D": {"Type": "Task", "Resource": "double", "End": True}},
        },  # fmt: skip
    )
    return app, tokens


def _callback_machine(**extra: Any) -> dict[str, Any]:
    # Developer guide, "Wait for a Callback with Task Token": the token is passed to the
    # function in the parameters as $$.Task.Token.
    return {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}},
                "ResultPath": "$.answer",
                "End": True,
                **extra,
            }
        },
    }


async def _token(tokens: list[str]) -> str:
    for _ in range(1000):
        if tokens:
            return tokens[0]
        await asyncio.sleep(0.01)
    raise AssertionError("the step never received its task token")


async def test_send_task_success_output_is_the_state_result() -> None:
    app, tokens = _app()
    app.register_state_machine("cb", _callback_machine())
    async with WorkflowEnvironment(app):
        handle = await app.start("cb", {"order": 7})
        await app.send_task_success(await _token(tokens), {"approved": True})
        assert await handle.result(timeout=10) == {"order": 7, "answer": {"approved": True}}


async def test_send_task_failure_fails_the_state_with_its_error_and_cause() -> None:
    app, tokens = _app()
    machine = _callback_machine()
    # Catch with ResultPath: the error output {"Error", "Cause"} of the failure (ASL spec,
    # "Fallback States").
    ask = machine["States"]["Ask"]
    ask.pop("End")
    ask.update(Next="Done", Catch=[{"ErrorEquals": ["Rejected"], "ResultPath": "$.error",
                                    "Next": "Done"}])  # fmt: skip
    machine["States"]["Done"] = {"Type": "Succeed"}
    app.register_state_machine("cb", machine)
    async with WorkflowEnvironment(app):
        handle = await app.start("cb", {"order": 8})
        await app.send_task_failure(await _token(tokens), "Rejected", "over budget")
        assert await handle.result(timeout=10) == {
            "order": 8,
            "error": {"Error": "Rejected", "Cause": "over budget"},
        }


async def test_heartbeat_seconds_without_heartbeats_fails_with_heartbeat_timeout() -> None:
    # Developer guide, "Wait for a Callback with Task Token": HeartbeatSeconds with no
    # SendTaskHeartbeat in time fails the task with States.HeartbeatTimeout. The time-skipping
    # clock jumps to the heartbeat deadline as soon as nothing else runs.
    app, tokens = _app()
    app.register_state_machine("cb", _callback_machine(HeartbeatSeconds=60))
    async with WorkflowEnvironment(app):
        handle = await app.start("cb", {})
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=10)
    assert failed.value.error_type == "States.HeartbeatTimeout"


async def test_timeout_seconds_fails_a_callback_never_answered_with_states_timeout() -> None:
    app, tokens = _app()
    app.register_state_machine("cb", _callback_machine(TimeoutSeconds=3600))
    async with WorkflowEnvironment(app):
        handle = await app.start("cb", {})
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=10)
    assert failed.value.error_type == "States.Timeout"


async def test_start_execution_sync2_returns_the_child_description_with_json_output() -> None:
    app, _ = _app()
    app.register_state_machine("parent", {"StartAt": "Kid", "States": {"Kid": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": CHILD_ARN, "Input.$": "$.n", "Name": "kid-1"},
        "End": True}}})  # fmt: skip
    async with WorkflowEnvironment(app):
        out = await (await app.start("parent", {"n": 21})).result(timeout=10)
        child = await app.get_handle("kid-1").result(timeout=10)
    # .sync:2 gives Output as JSON, .sync as a JSON string (developer guide).
    assert out["Output"] == 42 and out["Status"] == "SUCCEEDED" and child == 42
    assert out["ExecutionArn"] == f"{EXECUTION_ARN}:kid-1" and out["Name"] == "kid-1"
    assert out["StateMachineArn"] == CHILD_ARN


async def test_start_execution_sync_gives_output_as_a_string_and_fails_with_task_failed() -> None:
    app, _ = _app()
    app.register_state_machine("parent", {"StartAt": "Kid", "States": {"Kid": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
        "Parameters": {"StateMachineArn": CHILD_ARN, "Input.$": "$.n"},
        "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Failed"}],
        "End": True}, "Failed": {"Type": "Pass", "End": True}}})  # fmt: skip
    async with WorkflowEnvironment(app):
        ok = await (await app.start("parent", {"n": 2})).result(timeout=10)
        caught = await (await app.start("parent", {"n": -1})).result(timeout=10)
        # without a Name the child still gets an id, and ExecutionArn names it
        assert await app.get_handle(ok["ExecutionArn"]).result(timeout=10) == 4
    assert json.loads(ok["Output"]) == 4 and ok["ExecutionArn"] == f"{EXECUTION_ARN}:{ok['Name']}"
    assert caught["Error"] == "States.TaskFailed"
    assert json.loads(caught["Cause"])["Error"] == "ValueError"


async def test_start_execution_without_sync_returns_once_started() -> None:
    app, _ = _app()
    app.register_state_machine("parent", {"StartAt": "Kid", "States": {"Kid": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": CHILD_ARN, "Input": 5, "Name": "fire-1"},
        "End": True}}})  # fmt: skip
    async with WorkflowEnvironment(app):
        out = await (await app.start("parent", {})).result(timeout=10)
        assert await app.get_handle("fire-1").result(timeout=10) == 10
    assert out["ExecutionArn"] == f"{EXECUTION_ARN}:fire-1" and out["StartDate"].endswith("Z")


async def test_legato_workflow_resource_runs_a_code_workflow_and_keeps_its_error() -> None:
    app, _ = _app()

    @app.workflow(name="triple")
    async def triple(ctx: legato.Context, n: int) -> int:
        if n < 0:
            raise LookupError("no negatives")
        return n * 3

    app.register_state_machine("parent", {"StartAt": "Kid", "States": {"Kid": {
        "Type": "Task", "Resource": "legato:workflow:triple", "InputPath": "$.n",
        "ResultPath": "$.tripled", "End": True}}})  # fmt: skip
    async with WorkflowEnvironment(app):
        out = await (await app.start("parent", {"n": 4})).result(timeout=10)
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await (await app.start("parent", {"n": -4})).result(timeout=10)
    assert out == {"n": 4, "tripled": 12}
    assert failed.value.error_type == "LookupError"
