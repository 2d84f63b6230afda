"""The HTTP Task, ``arn:aws:states:::http:invoke`` (developer guide, "Call HTTPS APIs in Step
Functions workflows"): one attempt of the built-in durable step ``legato.http``, so the state's
Retry, Catch, TimeoutSeconds and HeartbeatSeconds apply and the response is recorded once (a
call cut off by a crash is made again: at least once, as in Step Functions).

The arguments are checked here, in the deciding process, before anything is scheduled: a
request that cannot be made fails the state with ``States.Runtime`` naming the field. The call
itself (connections, credentials, which addresses may be reached) happens in the step, on a
worker: ``legato.adapters.http_task``."""

from __future__ import annotations

from legato.core import error_names
from legato.core.asl.errors import StatesError
from legato.core.asl.integration_steps import HTTP_STEP
from legato.core.asl.resources import HttpInvoke
from legato.core.asl.validate_http import http_problems
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run
from legato.engine.statemachine.step_calls import call_step


async def run_http(
    run: Run,
    sd: StateData,
    resource: HttpInvoke,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The HTTP response in Step Functions' shape."""
    problems = http_problems(args, "Arguments" if sd.jsonata else "Parameters")
    if problems:
        detail = "; ".join(f"{at}: {rule}" for at, rule in problems)
        raise StatesError(error_names.RUNTIME, f"{sd.name}: {detail}")
    return await call_step(run, sd, HTTP_STEP, args, timeout, heartbeat)
