"""Task states (ASL spec, "Task State"; developer guide, "Task workflow state", "Invoke an AWS
Lambda function", "Start a new state machine execution").

A Task's Resource names what runs: a step registered in the app (by name, or as a Lambda
function ARN whose function name is the step's name), ``arn:aws:states:::lambda:invoke`` with
FunctionName and Payload, a child execution, or an activity that a worker polls for through
the HTTP API. Each attempt is one step call with no retries
of its own (the state's Retry field decides) and the state's TimeoutSeconds and
HeartbeatSeconds as its timeouts; a failure becomes a States error named by the step's error
type (its exception class name, or States.Timeout / States.HeartbeatTimeout). A step that
stands for a Lambda function (a function ARN, or lambda:invoke) answers as Lambda does
(``call_function``).
"""

from __future__ import annotations

from typing import cast

from legato.core import error_names
from legato.core.asl import lambda_shapes
from legato.core.asl.errors import StatesError, task_error
from legato.core.asl.limits import check_task_result
from legato.core.asl.resources import (
    Activity,
    ChildExecution,
    HttpInvoke,
    Integration,
    LambdaInvoke,
    StepResource,
    UnsupportedResource,
    activity_step,
    function_name_of,
    parse_resource,
)
from legato.core.durations import epoch_ms
from legato.core.events import JSON
from legato.engine.statemachine.callbacks import await_token, open_token, run_child
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.http_task import run_http
from legato.engine.statemachine.integrations import run_integration
from legato.engine.statemachine.machine import Outcome, Run, Scope, _next
from legato.engine.statemachine.mocking import run_mocked
from legato.engine.statemachine.step_calls import ONE_ATTEMPT, call_step
from legato.errors import RegistrationError, StepFailed


async def run_task(run: Run, sd: StateData, scope: Scope) -> Outcome:
    if run.mocks is not None and run.mocks.covers(sd.name):  # a mocked Task calls nothing
        return await run_mocked(run, sd, scope, run.mocks)
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
        check_task_result(result, cast(str, sd.state.get("Resource")))
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
    elif isinstance(resource, Integration):
        result = await run_integration(run, sd, resource, args, timeout, heartbeat)
    elif isinstance(resource, HttpInvoke):
        result = await run_http(run, sd, resource, args, timeout, heartbeat)
    elif resource.function is not None:
        step = resource.name
        result, _ = await call_function(run, sd, step, resource.function, args, timeout, heartbeat)
    else:
        result = await call_step(run, sd, resource.name, args, timeout, heartbeat)
    if waiting is not None:
        result = await await_token(waiting)
    scope.cancel.check()
    check_task_result(result, cast(str, sd.state.get("Resource")))  # 256 KiB quota, catchable
    return _next(sd.state), sd.output(result)


def _wants_token(
    resource: StepResource | LambdaInvoke | ChildExecution | Integration | HttpInvoke,
) -> bool:
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


async def call_function(
    run: Run,
    sd: StateData,
    step: str,
    function: str,
    payload: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> tuple[JSON, str]:
    """One invocation of the Lambda ``function`` that the registered ``step`` stands for, as
    Lambda answers it (``legato.core.asl.lambda_shapes``): its return value with JSON text
    (a string, or bytes) decoded, and the invocation's request id. It raises the error named
    by the exception's class with Lambda's error JSON as its Cause, and a function no step is
    registered for raises the catchable ``Lambda.ResourceNotFoundException``.

    Whether a step exists is decided here, in the process that decides the execution, by its
    registry: scheduling a step needs its registration (queue, retry, signature), so no other
    process could run it. The steps live workers record are not asked: they say who serves a
    step now (a step nobody serves waits for a worker during a deploy), not whether it exists,
    and a replay must decide the same way whoever is alive then."""
    request = lambda_shapes.request_id(_invocation(run, sd))
    try:
        fut = run.ctx.call_step(
            step, (payload,), retry=ONE_ATTEMPT, timeout=timeout, heartbeat_timeout=heartbeat
        )
    except RegistrationError:
        cause = lambda_shapes.not_found_cause(function, request, run.aws)
        raise task_error(lambda_shapes.RESOURCE_NOT_FOUND, cause) from None
    try:
        result = await fut
    except StepFailed as exc:
        if exc.error_type.startswith(error_names.PREFIX):  # the engine's (States.Timeout...)
            raise task_error(exc.error_type, exc.message) from None
        cause = lambda_shapes.error_cause(exc.error_type, exc.message, exc.traceback, request)
        raise task_error(exc.error_type, cause) from None
    if isinstance(result, bytes | bytearray):  # a step annotated to return bytes
        result = bytes(result).decode("utf-8", errors="replace")
    return lambda_shapes.decode_json_text(cast(JSON, result)), request


def _invocation(run: Run, sd: StateData) -> str:
    """What tells one invocation from every other: the execution, the state, when it was
    entered, the attempt and (in a Map) the item."""
    state = cast(dict[str, JSON], sd.context["State"])
    item = cast(dict[str, JSON], sd.context.get("Map") or {}).get("Item")
    index = item.get("Index") if isinstance(item, dict) else None
    attempt = state.get("RetryCount", 0)
    return f"{run.ctx.execution_id}:{sd.name}:{state.get('EnteredTime')}:{attempt}:{index}"


async def _lambda_invoke(
    run: Run, sd: StateData, args: JSON, timeout: float | None, heartbeat: float | None
) -> JSON:
    """``arn:aws:states:::lambda:invoke``: the function gets ``Payload`` (JSON text decoded,
    ``{}`` when there is none) and the result has Lambda's Invoke response shape, the
    function's return value under ``Payload`` (developer guide, "Invoke Lambda with Step
    Functions")."""
    if not isinstance(args, dict) or not isinstance(args.get("FunctionName"), str):
        raise StatesError(
            error_names.RUNTIME, f"{sd.name}: lambda:invoke needs a FunctionName in its parameters"
        )
    function = cast(str, args["FunctionName"])
    payload = lambda_shapes.invoke_payload(args.get("Payload"))
    step = function_name_of(function)
    result, request = await call_function(run, sd, step, function, payload, timeout, heartbeat)
    return lambda_shapes.invoke_response(result, request, epoch_ms(run.ctx.now()))
