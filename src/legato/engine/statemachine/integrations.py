"""AWS service integrations in Task states (developer guide, "Integrating services with Step
Functions"): the optimized ones (``arn:aws:states:::dynamodb:putItem``...) and every AWS SDK
action (``arn:aws:states:::aws-sdk:SERVICE:ACTION``). Each call is one attempt of the built-in
durable step ``legato.aws``, so the state's Retry, Catch, TimeoutSeconds and HeartbeatSeconds
apply and its result is recorded once."""

from __future__ import annotations

from legato.core import error_names
from legato.core.asl.errors import StatesError
from legato.core.asl.integration_steps import AWS_STEP
from legato.core.asl.resources import Integration
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run
from legato.engine.statemachine.step_calls import call_step

#: Step Functions' ``aws-sdk`` service names that are not botocore's
_BOTOCORE_NAMES = {
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
    "bedrockruntime": "bedrock-runtime",
    "sfn": "stepfunctions",
}


async def run_integration(
    run: Run,
    sd: StateData,
    resource: Integration,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The integration's result, in Step Functions' shape."""
    if resource.sdk:
        service = _BOTOCORE_NAMES.get(resource.service, resource.service)
        operation = resource.action[:1].upper() + resource.action[1:]
        prefix = resource.service[:1].upper() + resource.service[1:]
        return await call_aws(run, sd, service, operation, args, timeout, heartbeat, prefix)
    raise StatesError(error_names.RUNTIME, f"{sd.name}: {resource} is not built yet")


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
    request: JSON = {
        "service": service,
        "operation": operation,
        "params": params if params is not None else {},
        "error_prefix": error_prefix,
    }
    return await call_step(run, sd, AWS_STEP, request, timeout, heartbeat)
