"""Commands a workflow issues; ``legato.core.decide`` turns each into events, tasks and timers.

A closed union: ``decide`` matches over it and ends with ``assert_never``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, TypeAlias


class ScheduleStep(NamedTuple):  # a named tuple: made once per step, the cheapest record
    step_id: int
    name: str
    queue: str
    args: str  # JSON [args, kwargs], or [args, kwargs, options] with the call's own timeouts
    start_by: int | None = None  # epoch ms: a worker must have started it by then


@dataclass(frozen=True, slots=True)
class RecordState:
    """A state machine entered or left a state: recorded in the history, waits for nothing."""

    record_id: int
    exited: bool
    state: str
    data: str  # JSON: the state's input when entered, its output when exited


@dataclass(frozen=True, slots=True)
class StartTimer:
    timer_id: int
    fire_at: int  # epoch ms
    name: str = "sleep"


@dataclass(frozen=True, slots=True)
class StartChild:
    """Start a child execution in the parent's transition (or attach to one with its id)."""

    command_id: int
    child_id: str
    workflow: str
    version: str
    input: str  # JSON [args, kwargs]
    wait: bool  # the parent awaits its result (False: start_child, fire and forget)
    timeout_ms: int | None = None  # the child's execution timeout
    close_policy: str = "request_cancel"  # a ParentClosePolicy: if the parent closes first


@dataclass(frozen=True, slots=True)
class StartExternalTask:
    """A durable wait for a task token, with its timeout and heartbeat timers (epoch ms)."""

    command_id: int
    token: str
    timeout_timer: tuple[int, int] | None  # (timer id, fire_at)
    heartbeat_timer: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class CompleteExecution:
    result: str  # JSON


@dataclass(frozen=True, slots=True)
class FailExecution:
    error_type: str
    message: str
    traceback: str
    cause_ref: int | None = None  # the command whose failure the code let through


@dataclass(frozen=True, slots=True)
class CancelExecution:
    """The code ended on a cancellation request."""

    reason: str | None


@dataclass(frozen=True, slots=True)
class MarkCompensation:
    """The saga's compensations start (``count`` of them) or are all done: recorded, waits
    for nothing."""

    ref: int
    started: bool
    count: int = 0


Command: TypeAlias = (
    ScheduleStep
    | StartTimer
    | RecordState
    | StartChild
    | StartExternalTask
    | MarkCompensation
    | CompleteExecution
    | FailExecution
    | CancelExecution
)
