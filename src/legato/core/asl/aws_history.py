"""A state machine execution's history in Step Functions' GetExecutionHistory ``events`` shape
(``GET /v1/executions/{id}/history?format=aws``), so tools written against AWS read it.

Each event has ``timestamp`` (epoch seconds, as AWS's JSON protocol sends it), ``type``, ``id``
(1, 2, ... in order), ``previousEventId`` (the one before it; 0 for the first) and the
per-type details object (``executionStartedEventDetails``, ``stateEnteredEventDetails``, ...).
A state's type (``TaskStateEntered``, ``PassStateExited``) comes from ``state_types``; a
state it does not name is a Task. Legato events with no Step Functions counterpart (timers,
signals, compensations) are left out. Payloads are JSON text, as AWS gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from legato.core import codec, error_names
from legato.core.events import (
    ChildCompleted,
    ChildFailed,
    ChildScheduled,
    Event,
    ExecutionCancelled,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionRedriven,
    ExecutionStarted,
    ExecutionTerminated,
    ExecutionTimedOut,
    ExternalTaskCompleted,
    ExternalTaskFailed,
    ExternalTaskStarted,
    StateEntered,
    StateExited,
    StepCompleted,
    StepFailed,
    StepRetryScheduled,
    StepScheduled,
)

RESOURCE_TYPE = "legato"

#: Events a workflow's own commands record that this view shows (one AWS event each)...
SHOWN_COMMAND_EVENTS = (StateEntered, StateExited, StepScheduled, ChildScheduled,
                        ExternalTaskStarted)  # fmt: skip
#: ... and the results fed to it that it shows: with ExecutionStarted (id 1), what an
#: execution can count as it runs to know the id its next event will have in this view.
SHOWN_INPUT_EVENTS = (StepCompleted, StepFailed, ChildCompleted, ChildFailed,
                      ExternalTaskCompleted, ExternalTaskFailed)  # fmt: skip
#: Every event this view shows (``_shape`` gives it an AWS event).
SHOWN_EVENTS = (*SHOWN_COMMAND_EVENTS, *SHOWN_INPUT_EVENTS, ExecutionStarted,
                StepRetryScheduled, ExecutionCompleted, ExecutionFailed, ExecutionCancelled,
                ExecutionTerminated, ExecutionTimedOut, ExecutionRedriven)  # fmt: skip
_NOT_TRUNCATED = {"truncated": False}


def state_types(definition: Mapping[str, Any]) -> dict[str, str]:
    """Every state's ``Type`` by name, nested branches and item processors included."""
    found: dict[str, str] = {}
    todo: list[Mapping[str, Any]] = [definition]
    while todo:
        machine = todo.pop()
        states = machine.get("States")
        if not isinstance(states, Mapping):
            continue
        for name, state in states.items():
            if not isinstance(state, Mapping):
                continue
            found[str(name)] = str(state.get("Type", "Task"))
            for branch in state.get("Branches") or []:
                if isinstance(branch, Mapping):
                    todo.append(branch)
            for key in ("Iterator", "ItemProcessor"):
                inner = state.get(key)
                if isinstance(inner, Mapping):
                    todo.append(inner)
    return found


def aws_events(events: Iterable[Event], state_types: Mapping[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for event in events:
        shaped = _shape(event, state_types)
        if shaped is None:
            continue
        kind, details = shaped
        number = len(out) + 1
        entry: dict[str, Any] = {
            "timestamp": event.ts / 1000,
            "type": kind,
            "id": number,
            "previousEventId": number - 1,
        }
        entry.update(details)
        out.append(entry)
    return out


def _execution_input(text: str | None) -> str:
    """A state machine's input: the one argument of its ``[args, kwargs]``."""
    if text is None:
        return "null"
    args = codec.loads(text)[0]
    return codec.dumps(args[0] if args else None, "input")


def _task(name: str, **more: Any) -> dict[str, Any]:
    return {"resourceType": RESOURCE_TYPE, "resource": name, **more}


def _shape(e: Event, types: Mapping[str, str]) -> tuple[str, dict[str, Any]] | None:
    if isinstance(e, ExecutionStarted):
        details = {"input": _execution_input(e.input), "inputDetails": _NOT_TRUNCATED,
                   "roleArn": ""}  # fmt: skip
        return "ExecutionStarted", {"executionStartedEventDetails": details}
    if isinstance(e, StateEntered):
        kind = types.get(e.state, "Task")
        details = {"name": e.state, "input": e.input, "inputDetails": _NOT_TRUNCATED}
        return f"{kind}StateEntered", {"stateEnteredEventDetails": details}
    if isinstance(e, StateExited):
        kind = types.get(e.state, "Task")
        details = {"name": e.state, "output": e.output, "outputDetails": _NOT_TRUNCATED}
        return f"{kind}StateExited", {"stateExitedEventDetails": details}
    if isinstance(e, StepScheduled):
        task = _task(e.name, region="", parameters=e.args)
        return "TaskScheduled", {"taskScheduledEventDetails": task}
    if isinstance(e, StepCompleted):
        task = _task(e.name, output=e.result, outputDetails=_NOT_TRUNCATED)
        return "TaskSucceeded", {"taskSucceededEventDetails": task}
    if isinstance(e, StepRetryScheduled | StepFailed):
        task = _task(e.name, error=e.error_type, cause=e.message)
        return "TaskFailed", {"taskFailedEventDetails": task}
    if isinstance(e, ChildScheduled):
        task = _task(e.workflow, region="", parameters=e.input)
        return "TaskScheduled", {"taskScheduledEventDetails": task}
    if isinstance(e, ChildCompleted):
        task = _task("child", output=e.result or "null", outputDetails=_NOT_TRUNCATED)
        return "TaskSucceeded", {"taskSucceededEventDetails": task}
    if isinstance(e, ChildFailed):
        task = _task("child", error=e.error_type, cause=e.message)
        return "TaskFailed", {"taskFailedEventDetails": task}
    if isinstance(e, ExternalTaskStarted):
        return "TaskSubmitted", {"taskSubmittedEventDetails": _task("waitForTaskToken")}
    if isinstance(e, ExternalTaskCompleted):
        task = _task("waitForTaskToken", output=e.result or "null", outputDetails=_NOT_TRUNCATED)
        return "TaskSucceeded", {"taskSucceededEventDetails": task}
    if isinstance(e, ExternalTaskFailed):
        task = _task("waitForTaskToken", error=e.error_type, cause=e.message)
        return "TaskFailed", {"taskFailedEventDetails": task}
    if isinstance(e, ExecutionCompleted):
        details = {"output": e.result, "outputDetails": _NOT_TRUNCATED}
        return "ExecutionSucceeded", {"executionSucceededEventDetails": details}
    if isinstance(e, ExecutionFailed):
        details = {"error": e.error_type, "cause": e.message}
        return "ExecutionFailed", {"executionFailedEventDetails": details}
    if isinstance(e, ExecutionCancelled | ExecutionTerminated):
        error = (error_names.CANCELLED if isinstance(e, ExecutionCancelled)
                 else error_names.TERMINATED)  # fmt: skip
        details = {"error": error, "cause": e.reason or ""}
        return "ExecutionAborted", {"executionAbortedEventDetails": details}
    if isinstance(e, ExecutionTimedOut):
        cause = f"the execution ran past its timeout of {e.timeout_ms / 1000:g}s"
        details = {"error": error_names.TIMEOUT, "cause": cause}
        return "ExecutionTimedOut", {"executionTimedOutEventDetails": details}
    if isinstance(e, ExecutionRedriven):
        return "ExecutionRedriven", {"executionRedrivenEventDetails": {"redriveCount": e.count}}
    return None
