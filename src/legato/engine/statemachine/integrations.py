"""AWS service integrations in Task states (developer guide, "Integrating services with Step
Functions"): the optimized ones (``arn:aws:states:::dynamodb:putItem``...) and every AWS SDK
action (``arn:aws:states:::aws-sdk:SERVICE:ACTION``). Each call is one attempt of a built-in
durable step, so the state's Retry, Catch, TimeoutSeconds and HeartbeatSeconds apply and its
result is recorded once."""

from __future__ import annotations

from legato.core import error_names
from legato.core.asl.errors import StatesError
from legato.core.asl.resources import Integration
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run


async def run_integration(
    run: Run,
    sd: StateData,
    resource: Integration,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The integration's result, in Step Functions' shape."""
    raise StatesError(error_names.RUNTIME, f"{sd.name}: {resource} is not built yet")
