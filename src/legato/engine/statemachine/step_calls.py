"""One attempt of a step from a Task state: the registered step a Task names, or a built-in
integration step (AWS, HTTP, Distributed Map items)."""

from __future__ import annotations

from typing import cast

from legato.core import error_names
from legato.core.asl.errors import StatesError, task_error
from legato.core.events import JSON
from legato.core.retry import Retry
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run
from legato.errors import RegistrationError, StepFailed

#: the state's Retry decides; ASL's TimeoutSeconds defaults to 99999999 (no practical limit),
#: so we set none
ONE_ATTEMPT = Retry(max_attempts=1)


async def call_step(
    run: Run,
    sd: StateData,
    step: str,
    payload: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """One attempt of the step registered as ``step``, with the payload as its argument."""
    try:
        fut = run.ctx.call_step(
            step, (payload,), retry=ONE_ATTEMPT, timeout=timeout, heartbeat_timeout=heartbeat
        )
    except RegistrationError:
        raise StatesError(
            error_names.RUNTIME,
            f"{sd.name}: no step named {step!r} is registered (register the function with "
            f"@app.step(name={step!r}))",
        ) from None
    try:
        return cast(JSON, await fut)
    except StepFailed as exc:
        raise task_error(exc.error_type, exc.message) from None
