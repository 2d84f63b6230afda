"""Task states (ASL spec, "Task State"; developer guide, "Task workflow state", "Invoke an AWS
Lambda function", "Start a new state machine execution").

A Task's Resource names what runs: a step registered in the app (by name, or as a Lambda
function ARN whose function name is the step's name), ``arn:aws:states:::lambda:invoke`` with
FunctionName and Payload, a child execution, or an activity that a worker polls for through
the HTTP API. Each attempt is one step call with no retries
of its own (the state's Retry field decides) and the state's TimeoutSeconds and
HeartbeatSeconds as its timeouts; a failure becomes a States error named by the step's error
type (its exception class name, or States.Timeout / States.HeartbeatTimeout).
"""

from __future__ import annotations

from typing import cast

from legato.core import error_names
from legato.core.asl.errors import StatesError, task_error
from legato.core.asl.resources import (
    Activity,
    ChildExecution,
    LambdaInvoke,
    StepResource,
    UnsupportedResource,
    activity_step,
    function_name_of,
    parse_resource,
)
from legato.core.events import JSON
from legato.core.retry import Retry
from legato.engine.statemachine.callbacks import await_token, open_token, run_child
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Outcome, Run, Scope, _next
from legato.errors import RegistrationError, StepFailed

#: ASL spec: TimeoutSeconds defaults to 99999999 (no practical limit); we set none.
ONE_ATTEMPT = Retry(max_attempts=1)


async def run_task(run: Run, sd: StateData, scope: Scope) -> Outcome:
    effective = sd.effective_input()
    timeout = sd.number("TimeoutSeconds", effective)
    heartbeat = sd.number("HeartbeatSeconds", effective)
    try:
        resource = parse_resource(cast(str, sd.state.get("Resource")))
    except UnsupportedResource as exc:
        raise StatesError(error_names.RUNTIME, f"{sd.name}: {exc}") from None
    if isinstance(resource, Activity):
        activity = open_token(run, sd, timeout, heartbeat)
        await hand_to_activity(run, sd, resource.name, sd.arguments(effective), heartbeat)
        result = await await_token(activity)
        scope.cancel.check()
        return _next(sd.state), sd.output(result)
    token = isinstance(resource, ChildExecution) and resource.mode == "token"
    waiting = open_token(run, sd, timeout, heartbeat) if token or _wants_token(resource) else None
    args = sd.arguments(effective)  # after the token: parameters may use $$.Task.Token
    if waiting is not None:  # the token's wait holds the timeouts, not the step that hands it on
        timeout = heartbeat = None
    if isinstance(resource, ChildExecution):
        result = await run_child(run, sd, resource, args)
    elif isinstance(resource, LambdaInvoke):
        result = await _lambda_invoke(run, sd, args, timeout, heartbeat)
    else:
        result = await call_step(run, sd, resource.name, args, timeout, heartbeat)
    if waiting is not None:
        result = await await_token(waiting)
    scope.cancel.check()
    return _next(sd.state), sd.output(result)


def _wants_token(resource: StepResource | LambdaInvoke | ChildExecution) -> bool:
    return not isinstance(resource, ChildExecution) and resource.wait_for_token


async def hand_to_activity(
    run: Run, sd: StateData, name: str, args: JSON, heartbeat: float | None
) -> None:
    """Queue the activity's work: a task of its own step and queue that only a poll of
    activity ``name`` claims (``legato.api.activities``); the poll completes it at once and
    hands the poller the state's task token and input, so the state then waits for the
    token like any ``.waitForTaskToken`` Task (TimeoutSeconds counts from here, as in Step
    Functions; the poll re-arms HeartbeatSeconds when a worker takes the task)."""
    token = cast(dict[str, str], sd.context["Task"])["Token"]
    work: JSON = {"token": token, "input": args, "heartbeat": heartbeat}
    await call_step(run, sd, activity_step(name), work, None, None)


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


async def _lambda_invoke(
    run: Run, sd: StateData, args: JSON, timeout: float | None, heartbeat: float | None
) -> JSON:
    """``arn:aws:states:::lambda:invoke``: the result has Lambda's Invoke response shape, the
    function's return value under ``Payload`` (developer guide, "Invoke an AWS Lambda
    function with Step Functions")."""
    if not isinstance(args, dict) or not isinstance(args.get("FunctionName"), str):
        raise StatesError(
            error_names.RUNTIME, f"{sd.name}: lambda:invoke needs a FunctionName in its parameters"
        )
    step = function_name_of(cast(str, args["FunctionName"]))
    payload = args.get("Payload")
    result = await call_step(run, sd, step, payload, timeout, heartbeat)
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": result,
        "SdkHttpMetadata": {"HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": f"{run.ctx.execution_id}:{sd.name}"},
        "StatusCode": 200,
    }
