"""One AWS SDK call from a Task state: an attempt of the built-in durable step ``legato.aws``,
so the state's Retry, Catch, TimeoutSeconds and HeartbeatSeconds apply and its result is
recorded once."""

from __future__ import annotations

from legato.core.asl.integration_steps import AWS_STEP
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run
from legato.engine.statemachine.step_calls import call_step


async def call_aws(
    run: Run,
    sd: StateData,
    service: str,
    operation: str,
    params: JSON,
    timeout: float | None,
    heartbeat: float | None,
    error_prefix: str,
) -> JSON:
    """One attempt of botocore ``service``'s ``operation`` with ``params``: the response as
    JSON, or the error ``<error_prefix>.<ExceptionName>``."""
    names: dict[str, JSON] = {
        "service": service,
        "operation": operation,
        "error_prefix": error_prefix,
    }
    return await _attempt(run, sd, names, params, timeout, heartbeat)


async def call_sdk(
    run: Run,
    sd: StateData,
    service: str,
    action: str,
    params: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """One attempt of ``arn:aws:states:::aws-sdk:SERVICE:ACTION`` with Step Functions' names
    (``sfn``, ``startExecution``): the step maps them to botocore's (``stepfunctions``,
    ``StartExecution``) and names errors ``<Service>.<ExceptionName>`` (``Sfn.``...), since
    only the step's side reads botocore's models."""
    names: dict[str, JSON] = {"sdk_service": service, "action": action}
    return await _attempt(run, sd, names, params, timeout, heartbeat)


async def _attempt(
    run: Run,
    sd: StateData,
    names: dict[str, JSON],
    params: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """One attempt of ``legato.aws``: the call's names and its parameters."""
    request: JSON = {**names, "params": params if params is not None else {}}
    return await call_step(run, sd, AWS_STEP, request, timeout, heartbeat)
