"""The HTTP Task, ``arn:aws:states:::http:invoke`` (developer guide, "Call third-party APIs in
Step Functions workflows"): one attempt of a built-in durable step."""

from __future__ import annotations

from legato.core import error_names
from legato.core.asl.errors import StatesError
from legato.core.asl.resources import HttpInvoke
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run


async def run_http(
    run: Run,
    sd: StateData,
    resource: HttpInvoke,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The HTTP response in Step Functions' shape."""
    raise StatesError(error_names.RUNTIME, f"{sd.name}: the HTTP Task is not built yet")
