"""AWS service integrations in Task states (developer guide, "Integrating services with Step
Functions"): every AWS SDK action (``arn:aws:states:::aws-sdk:SERVICE:ACTION``) and the
optimized integrations (``arn:aws:states:::dynamodb:putItem``..., ``optimized.py``). Each call
is one attempt of a built-in durable step (``aws_calls.py``)."""

from __future__ import annotations

from legato.core.asl.resources import Integration
from legato.core.events import JSON
from legato.engine.statemachine.aws_calls import call_sdk
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run
from legato.engine.statemachine.optimized import run_optimized
from legato.engine.statemachine.task_token_calls import answers_token, run_token_call


async def run_integration(
    run: Run,
    sd: StateData,
    resource: Integration,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The integration's result, in Step Functions' shape."""
    if answers_token(resource):  # Legato's own task tokens, not AWS's
        return await run_token_call(run, sd, resource, args, timeout, heartbeat)
    if resource.sdk:
        return await call_sdk(run, sd, resource.service, resource.action, args, timeout, heartbeat)
    return await run_optimized(run, sd, resource, args, timeout, heartbeat)
