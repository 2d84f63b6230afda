"""Task states that wait for something outside the step: a task token or a child execution.

``.waitForTaskToken`` (developer guide, "Wait for a Callback with Task Token"): the state
creates a token (``$$.Task.Token`` while its parameters are evaluated), runs its step or starts
its child with them, and then waits until ``app.send_task_success(token, output)`` (the output
is the state's result) or ``send_task_failure(token, error, cause)`` (the state fails with that
error); TimeoutSeconds fails it with States.Timeout and HeartbeatSeconds, without
``send_task_heartbeat(token)`` in time, with States.HeartbeatTimeout.

Child executions (developer guide, "Start a new AWS Step Functions state machine execution"):
``arn:aws:states:::states:startExecution`` starts the workflow named by StateMachineArn (its
name: the ARN's last part) with Input and, if given, Name as its execution id, and returns
``{ExecutionArn, StartDate}`` (the child's execution ARN, ``core.asl.arns``); ``.sync`` waits
and returns the description of the finished execution with Output as a JSON string
(``.sync:2``: as JSON), failing with States.TaskFailed if the child failed.
``legato:workflow:NAME`` runs workflow NAME with the state's arguments as its input and returns
its output as the result; its failure keeps the child's error name.
"""

from __future__ import annotations

import json
from typing import cast

from legato.core import error_names
from legato.core.asl.errors import StatesError, reported, task_error
from legato.core.asl.execution_status import aws_status_of_failure
from legato.core.asl.resources import ChildExecution, workflow_name_of
from legato.core.asl.times import format_timestamp
from legato.core.durations import epoch_ms
from legato.core.events import JSON
from legato.engine.scheduler import WFuture
from legato.engine.statemachine.dataflow import Obj, StateData
from legato.engine.statemachine.machine import Run
from legato.errors import RegistrationError, StepFailed


def open_token(run: Run, sd: StateData, timeout: float | None, heartbeat: float | None) -> WFuture:
    """Create the state's task token and put it in the context object (``$$.Task.Token``);
    returns the future the callback resolves."""
    fut, token = run.ctx.external_task(timeout=timeout, heartbeat_timeout=heartbeat)
    sd.context["Task"] = {"Token": token}
    return fut


async def await_token(fut: WFuture) -> JSON:
    try:
        return cast(JSON, await fut)
    except StepFailed as exc:
        raise task_error(exc.error_type, exc.message) from None


async def run_child(run: Run, sd: StateData, resource: ChildExecution, args: JSON) -> JSON:
    if resource.workflow is not None:  # legato:workflow:NAME: the arguments are its input
        try:
            return cast(JSON, await _launch(run, sd, resource.workflow, args, None, wait=True))
        except StepFailed as exc:  # the child's own error name and cause
            raise reported(exc.error_type, exc.message) from None
    if not isinstance(args, dict) or not isinstance(args.get("StateMachineArn"), str):
        raise StatesError(
            error_names.RUNTIME,
            f"{sd.name}: startExecution needs a StateMachineArn in its parameters",
        )
    arn = cast(str, args["StateMachineArn"])
    child_input = args.get("Input", {})
    if isinstance(child_input, str):  # Step Functions also takes Input as a JSON string
        try:
            child_input = json.loads(child_input)
        except json.JSONDecodeError:
            pass
    name = args.get("Name")
    child_id = name if isinstance(name, str) else run.child_id(sd.name)
    started = format_timestamp(epoch_ms(run.ctx.now()))
    wait = resource.mode in ("sync", "sync2")
    workflow = workflow_name_of(arn)
    # developer guide, "Start a new AWS Step Functions state machine execution": the child's
    # ExecutionArn is an execution ARN (``...:execution:MACHINE:NAME``); its Name is the id
    child_arn = run.aws.execution_arn(workflow, child_id)
    try:
        output = await _launch(run, sd, workflow, child_input, child_id, wait=wait)
    except StepFailed as exc:  # developer guide: a failed child fails the task, States.TaskFailed
        status = aws_status_of_failure(exc.error_type)
        cause = json.dumps({"Error": exc.error_type, "Cause": exc.message, "Status": status})
        raise StatesError(error_names.TASK_FAILED, cause) from None
    if not wait:
        return {"ExecutionArn": child_arn, "StartDate": started}
    as_json = resource.mode == "sync2"
    described: Obj = {
        "ExecutionArn": child_arn,
        "Input": child_input if as_json else json.dumps(child_input),
        "Name": child_id,
        "Output": cast(JSON, output) if as_json else json.dumps(output),
        "StartDate": started,
        "StateMachineArn": arn,
        "Status": "SUCCEEDED",
        "StopDate": format_timestamp(epoch_ms(run.ctx.now())),
    }
    return described


async def _launch(
    run: Run, sd: StateData, workflow: str, child_input: JSON, child_id: str | None, *, wait: bool
) -> object:
    """Start the child (and, with ``wait``, await its output); an unregistered workflow is the
    state's States.Runtime error, the child's failure a ``StepFailed`` for the caller to name."""
    try:  # as in Step Functions, a child it does not wait for outlives it
        if wait:
            fut = run.ctx.child(workflow, child_input, id=child_id)
        else:
            fut = run.ctx.start_child(
                workflow, child_input, id=child_id, parent_close_policy="abandon"
            )
    except RegistrationError as exc:
        raise StatesError(error_names.RUNTIME, f"{sd.name}: {exc}") from None
    return await fut
