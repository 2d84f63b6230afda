"""Task states that wait for something outside: a task token, or a child execution."""

from __future__ import annotations

from legato.core.asl import errors
from legato.core.asl.errors import StatesError
from legato.core.asl.resources import ChildExecution, LambdaInvoke, StepResource
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run


async def run_callback_or_child(
    run: Run,
    sd: StateData,
    resource: StepResource | LambdaInvoke | ChildExecution,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    raise StatesError(errors.RUNTIME, f"{sd.name}: this resource is not available yet")
