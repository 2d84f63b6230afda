"""The test kit's time-skipping clock and ``.waitForTaskToken`` deadlines.

Developer guide, "Wait for a Callback with Task Token"
(https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token):
the task pauses until the token comes back with SendTaskSuccess or SendTaskFailure, which an
outside system sends after the function that received the token has returned; TimeoutSeconds
("Configure a Heartbeat Timeout for a Waiting Task") fails the state with States.Timeout only
if nothing came back in that time. In a test, "outside" is the test itself: the clock must not
jump over TimeoutSeconds merely because the engine is idle while the test is about to answer.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import legato
from legato.core.events import EventType
from legato.testing import WorkflowEnvironment

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _app(**state: Any) -> tuple[legato.App, list[str]]:
    app = legato.App()
    tokens: list[str] = []

    @app.step(name="notify")
    def notify(event: dict[str, Any]) -> str:
        tokens.append(event["token"])
        return "sent"  # returns at once: the answer comes later, from outside

    app.register_state_machine("approval", {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
        "ResultPath": "$.answer",
        "End": True,
        **state,
    }}})  # fmt: skip
    return app, tokens


async def _after_the_step_returned(env: WorkflowEnvironment, handle: legato.Handle[Any]) -> None:
    """Until the step's result is recorded and the engine has gone idle: the moment a clock
    that skips whenever the engine is idle would jump to the token's deadline."""
    while not any(e.type == EventType.STEP_COMPLETED for e in await handle.history()):
        await asyncio.sleep(0.005)
    idle_turns = 0
    while idle_turns < 20:
        await asyncio.sleep(0.001)
        idle_turns = idle_turns + 1 if env.clock.idle() else 0


@pytest.mark.parametrize("deadline", [{"TimeoutSeconds": 60}, {"HeartbeatSeconds": 60}])
async def test_a_callback_sent_after_the_step_returned_is_not_beaten_by_the_deadline(
    deadline: dict[str, int],
) -> None:
    app, tokens = _app(**deadline)
    async with WorkflowEnvironment(app, start=START, still_time=True, callback_grace=None) as env:
        handle = await app.start("approval", {"order": 7})
        await _after_the_step_returned(env, handle)
        await app.send_task_success(tokens[0], {"approved": True})
        out = await handle.result(timeout=10)
        assert env.now() - START < timedelta(seconds=60)  # time never reached the deadline
    assert out == {"order": 7, "answer": {"approved": True}}


async def test_skip_lets_a_deadline_pass_when_no_callback_will_come() -> None:
    app, _ = _app(TimeoutSeconds=60)
    async with WorkflowEnvironment(app, start=START, still_time=True, callback_grace=None) as env:
        handle = await app.start("approval", {})
        await _after_the_step_returned(env, handle)
        env.skip()
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=10)
        assert env.now() - START >= timedelta(seconds=60)
    assert failed.value.error_type == "States.Timeout"


async def test_after_the_idle_grace_the_deadline_passes_by_itself() -> None:
    """Nothing answers: once the engine has been idle ``callback_grace`` seconds of real time,
    time jumps to TimeoutSeconds and the state fails with States.Timeout, as on AWS."""
    app, _ = _app(TimeoutSeconds=3600)
    async with WorkflowEnvironment(app, start=START, still_time=True, callback_grace=0.05) as env:
        handle = await app.start("approval", {})
        with pytest.raises(legato.ExecutionFailedError) as failed:
            await handle.result(timeout=10)
        assert env.now() - START >= timedelta(seconds=3600)
    assert failed.value.error_type == "States.Timeout"


async def test_other_timers_still_skip_at_once_while_a_token_is_out() -> None:
    """A Wait state beside an open token (a Parallel branch) is not held back: only the
    token's own deadline waits for the grace."""
    app, tokens = _app()
    app.register_state_machine("both", {"StartAt": "P", "States": {"P": {
        "Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Ask", "States": {"Ask": {
                "Type": "Task", "TimeoutSeconds": 86400,
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True}}},
            {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}},
        ]}}})  # fmt: skip
    async with WorkflowEnvironment(app, start=START, still_time=True, callback_grace=None) as env:
        handle = await app.start("both", {})
        while not any(e.type == EventType.TIMER_FIRED for e in await handle.history()):
            await asyncio.sleep(0.005)
        assert timedelta(seconds=3600) <= env.now() - START < timedelta(seconds=86400)
        await app.send_task_success(tokens[0], "yes")
        out = await handle.result(timeout=10)
    assert out == ["yes", {}]
