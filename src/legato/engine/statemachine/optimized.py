"""Step Functions' optimized integrations (developer guide, "Integrating optimized services"):
DynamoDB, SNS, SQS, EventBridge, Bedrock, ECS, Batch, Glue, Athena, with the request and
response shapes the developer guide documents for each."""

from __future__ import annotations

from legato.core import error_names
from legato.core.asl.errors import StatesError
from legato.core.asl.resources import Integration
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run


async def run_optimized(
    run: Run,
    sd: StateData,
    resource: Integration,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The optimized integration's result, in Step Functions' shape."""
    raise StatesError(error_names.RUNTIME, f"{sd.name}: {resource} is not built yet")
