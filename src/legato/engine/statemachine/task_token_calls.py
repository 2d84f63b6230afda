"""``arn:aws:states:::aws-sdk:sfn:sendTaskSuccess`` (and ``sendTaskFailure``,
``sendTaskHeartbeat``) answer a task token from inside a state machine (developer guide,
"Wait for a Callback with Task Token"; Step Functions API reference, "SendTaskSuccess").

The tokens a definition holds are Legato's own (``$$.Task.Token`` of another execution's
``.waitForTaskToken`` state), so these calls go to the app's ``send_task_success`` and kin
rather than to AWS: one attempt of the built-in step ``legato.sfn`` (``client.sfn_steps``),
durable like any Task, with the state's Retry and Catch. Its errors are named as the AWS SDK
integration names them: ``Sfn.InvalidTokenException``, ``Sfn.TaskTimedOutException`` (the
wait already ended), ``Sfn.InvalidOutputException`` (Output is not JSON text)."""

from __future__ import annotations

from typing import Final

from legato.core.asl.integration_steps import SFN_STEP
from legato.core.asl.resources import Integration
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run
from legato.engine.statemachine.step_calls import call_step

TOKEN_ACTIONS: Final = frozenset({"sendTaskSuccess", "sendTaskFailure", "sendTaskHeartbeat"})


def answers_token(resource: Integration) -> bool:
    """True for the ``aws-sdk:sfn`` actions that answer a task token."""
    return resource.sdk and resource.service == "sfn" and resource.action in TOKEN_ACTIONS


async def run_token_call(
    run: Run,
    sd: StateData,
    resource: Integration,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The call's answer: ``{}``, as Step Functions' API answers it."""
    request: JSON = {"action": resource.action, "params": args if args is not None else {}}
    return await call_step(run, sd, SFN_STEP, request, timeout, heartbeat)
