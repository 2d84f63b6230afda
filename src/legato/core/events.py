"""History events: the append-only record that is each execution's only source of truth.

Each event type is a frozen dataclass; together they form the closed union ``Event``, so a
``match`` over events ends with ``assert_never`` and mypy names any type left unhandled.
``ref`` is the number of the command an event is about (a step, a timer, a child, an external
task, a recorded state): commands are numbered 1, 2, 3... in the order the code issues them.
Payloads (inputs, arguments, results) stay JSON text, decoded by whoever receives them.

``seq`` is an event's place in the history (1..n) and ``batch`` the ``seq`` of the first event
written in the same transition: replay feeds a workflow exactly the groups of events it saw
when it ran. Both are 0 until the event is stored.

How an event is stored (the history table's ``ref``, ``name``, ``payload`` and ``meta``
columns) is declared here field by field (``NAME``, ``PAYLOAD``, ``OPTIONAL``) and done by
``legato.core.event_rows``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, TypeAlias, TypeVar, dataclass_transform, get_args

JSON: TypeAlias = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]


class EventType(enum.StrEnum):
    EXECUTION_STARTED = "ExecutionStarted"
    STEP_SCHEDULED = "StepScheduled"
    STEP_COMPLETED = "StepCompleted"
    STEP_RETRY_SCHEDULED = "StepRetryScheduled"
    STEP_FAILED = "StepFailed"
    TIMER_STARTED = "TimerStarted"
    TIMER_FIRED = "TimerFired"
    EXECUTION_COMPLETED = "ExecutionCompleted"
    EXECUTION_FAILED = "ExecutionFailed"
    EXECUTION_SUSPENDED = "ExecutionSuspended"
    EXECUTION_RESUMED = "ExecutionResumed"
    STATE_ENTERED = "StateEntered"
    STATE_EXITED = "StateExited"
    SIGNAL_RECEIVED = "SignalReceived"
    CHILD_SCHEDULED = "ChildScheduled"
    CHILD_STARTED = "ChildStarted"
    CHILD_COMPLETED = "ChildCompleted"
    CHILD_FAILED = "ChildFailed"
    EXTERNAL_TASK_STARTED = "ExternalTaskStarted"
    EXTERNAL_TASK_HEARTBEAT = "ExternalTaskHeartbeat"
    EXTERNAL_TASK_COMPLETED = "ExternalTaskCompleted"
    EXTERNAL_TASK_FAILED = "ExternalTaskFailed"
    CANCEL_REQUESTED = "CancelRequested"
    EXECUTION_CANCELLED = "ExecutionCancelled"
    EXECUTION_TERMINATED = "ExecutionTerminated"
    EXECUTION_TIMED_OUT = "ExecutionTimedOut"
    EXECUTION_REDRIVEN = "ExecutionRedriven"
    COMPENSATION_STARTED = "CompensationStarted"
    COMPENSATION_COMPLETED = "CompensationCompleted"


class Status(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"  # the code ended on a cancellation request
    TIMED_OUT = "TIMED_OUT"  # ran past its execution timeout: no more code ran
    TERMINATED = "TERMINATED"  # stopped by an operator at once: no more code ran


CLOSED_STATUSES = frozenset(
    {Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT, Status.TERMINATED}
)
#: Closed statuses ``redrive`` reopens (Step Functions' RedriveExecution takes the same three).
REDRIVABLE_STATUSES = frozenset({Status.FAILED, Status.CANCELLED, Status.TIMED_OUT})
#: The command number of an execution's own timeout timer (commands count from 1).
EXECUTION_TIMEOUT_TIMER = 0


class SuspendKind(enum.StrEnum):
    UNREGISTERED = "unregistered"
    NON_DETERMINISM = "non-determinism"


T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def event(cls: type[T]) -> type[T]:
    """A frozen dataclass with slots, whose ``__init__`` stores each field through its slot's
    own descriptor rather than ``object.__setattr__``: the same immutable object, made in half
    the time (two events are made per step on the hot path)."""
    made: type[T] = dataclass(frozen=True, slots=True)(cls)
    made.__init__ = _fast_init(made)  # type: ignore[method-assign]
    return made


def _fast_init(cls: type) -> Callable[..., None]:
    namespace: dict[str, Any] = {}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for i, f in enumerate(fields(cls)):
        owner = next(k for k in cls.__mro__ if f.name in vars(k))
        namespace[f"_set{i}"] = vars(owner)[f.name].__set__
        param = f.name
        if f.default is not MISSING:
            namespace[f"_default{i}"] = f.default
            param += f"=_default{i}"
        (keyword if f.kw_only else positional).append(param)
        body.append(f"    _set{i}(self, {f.name})")
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    exec(f"def __init__({params}):\n" + "\n".join(body), namespace)  # noqa: S102
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


# Where a field is stored: the ``name`` or ``payload`` column, or (the default) a key of the
# ``meta`` column; an OPTIONAL meta key is left out while its value is None.
NAME = {"column": "name"}
PAYLOAD = {"column": "payload"}
OPTIONAL = {"column": "meta", "omit_none": True}


@dataclass(frozen=True, slots=True)
class _Recorded:  # a plain frozen dataclass: never made on its own
    """What every event has: when it happened and, once stored, where it is."""

    type: ClassVar[EventType]
    ts: int
    seq: int = field(default=0, kw_only=True)
    batch: int = field(default=0, kw_only=True)


# --- the execution -------------------------------------------------------------------------------
@event
class ExecutionStarted(_Recorded):
    type: ClassVar[EventType] = EventType.EXECUTION_STARTED
    workflow: str = field(metadata=NAME)
    input: str | None = field(metadata=PAYLOAD)  # JSON [args, kwargs]
    version: str
    parent_id: str | None = field(default=None, metadata=OPTIONAL)
    parent_ref: int | None = field(default=None, metadata=OPTIONAL)  # the parent's command
    timeout_ms: int | None = field(default=None, metadata=OPTIONAL)  # the execution timeout
    # the W3C traceparent it was started in (a caller's span, its parent execution's): its
    # trace (``legato.core.trace_context``); None: the root of a trace of its own
    traceparent: str | None = field(default=None, metadata=OPTIONAL)


@event
class ExecutionCompleted(_Recorded):
    type: ClassVar[EventType] = EventType.EXECUTION_COMPLETED
    result: str = field(metadata=PAYLOAD)


@event
class ExecutionFailed(_Recorded):
    type: ClassVar[EventType] = EventType.EXECUTION_FAILED
    error_type: str
    message: str
    traceback: str
    # the command whose failure (a step, child or external task) the code did not catch:
    # a redrive runs it again
    cause_ref: int | None = field(default=None, metadata=OPTIONAL)


@event
class ExecutionCancelled(_Recorded):
    """The code ended on the ``Cancelled`` a cancellation request raised in it."""

    type: ClassVar[EventType] = EventType.EXECUTION_CANCELLED
    reason: str | None = field(default=None, metadata=OPTIONAL)


@event
class ExecutionTerminated(_Recorded):
    type: ClassVar[EventType] = EventType.EXECUTION_TERMINATED
    reason: str | None = field(default=None, metadata=OPTIONAL)


@event
class ExecutionTimedOut(_Recorded):
    type: ClassVar[EventType] = EventType.EXECUTION_TIMED_OUT
    timeout_ms: int


@event
class ExecutionRedriven(_Recorded):
    """A closed execution reopened: the events from ``void_from`` up to this one are void
    (replay skips them), so the code goes on from where it failed with the code now running."""

    type: ClassVar[EventType] = EventType.EXECUTION_REDRIVEN
    void_from: int  # seq
    count: int  # redrives so far, this one included ($$.Execution.RedriveCount)


@event
class ExecutionSuspended(_Recorded):
    type: ClassVar[EventType] = EventType.EXECUTION_SUSPENDED
    kind: SuspendKind
    reason: str
    code: str | None = field(default=None, metadata=OPTIONAL)  # hash of the code that failed


@event
class ExecutionResumed(_Recorded):
    type: ClassVar[EventType] = EventType.EXECUTION_RESUMED


# --- steps ---------------------------------------------------------------------------------------
@event
class StepScheduled(_Recorded):
    type: ClassVar[EventType] = EventType.STEP_SCHEDULED
    ref: int
    name: str = field(metadata=NAME)
    args: str = field(metadata=PAYLOAD)  # JSON [args, kwargs] or [args, kwargs, options]
    queue: str


@event
class StepCompleted(_Recorded):
    type: ClassVar[EventType] = EventType.STEP_COMPLETED
    ref: int
    name: str = field(metadata=NAME)
    result: str = field(metadata=PAYLOAD)
    attempt: int


@event
class StepRetryScheduled(_Recorded):
    type: ClassVar[EventType] = EventType.STEP_RETRY_SCHEDULED
    ref: int
    name: str = field(metadata=NAME)
    attempt: int  # the attempt that failed
    error_type: str
    message: str
    delay_ms: int


@event
class StepFailed(_Recorded):
    type: ClassVar[EventType] = EventType.STEP_FAILED
    ref: int
    name: str = field(metadata=NAME)
    attempt: int
    error_type: str
    message: str
    traceback: str | None


# --- timers and recorded states ------------------------------------------------------------------
@event
class TimerStarted(_Recorded):
    type: ClassVar[EventType] = EventType.TIMER_STARTED
    ref: int
    name: str = field(metadata=NAME)  # "sleep", "signal timeout"
    fire_at: int  # epoch ms


@event
class TimerFired(_Recorded):
    type: ClassVar[EventType] = EventType.TIMER_FIRED
    ref: int


@event
class StateEntered(_Recorded):
    """A state machine began a state, with its input (JSON)."""

    type: ClassVar[EventType] = EventType.STATE_ENTERED
    ref: int
    state: str = field(metadata=NAME)
    input: str = field(metadata=PAYLOAD)


@event
class StateExited(_Recorded):
    """... and ended it, with its output (JSON)."""

    type: ClassVar[EventType] = EventType.STATE_EXITED
    ref: int
    state: str = field(metadata=NAME)
    output: str = field(metadata=PAYLOAD)


@event
class CompensationStarted(_Recorded):
    """The saga's recorded compensations begin to run, most recent first."""

    type: ClassVar[EventType] = EventType.COMPENSATION_STARTED
    ref: int
    count: int  # how many will run


@event
class CompensationCompleted(_Recorded):
    type: ClassVar[EventType] = EventType.COMPENSATION_COMPLETED
    ref: int


# --- messages: signals, children, external tasks -------------------------------------------------
@event
class CancelRequested(_Recorded):
    """An operator asked the execution to stop: the code sees ``legato.Cancelled``."""

    type: ClassVar[EventType] = EventType.CANCEL_REQUESTED
    inbox: int
    reason: str | None = field(default=None, metadata=OPTIONAL)


@event
class SignalReceived(_Recorded):
    type: ClassVar[EventType] = EventType.SIGNAL_RECEIVED
    name: str = field(metadata=NAME)
    payload: str | None = field(metadata=PAYLOAD)
    inbox: int  # the inbox row it came from


@event
class ChildScheduled(_Recorded):
    """A child execution started (or attached to) in the parent's transition."""

    type: ClassVar[EventType] = EventType.CHILD_SCHEDULED
    ref: int
    workflow: str = field(metadata=NAME)
    input: str = field(metadata=PAYLOAD)
    child_id: str
    wait: bool  # the parent awaits its result (False: start_child)


@event
class ChildStarted(_Recorded):
    type: ClassVar[EventType] = EventType.CHILD_STARTED
    ref: int
    inbox: int
    started_at: int  # epoch ms


@event
class ChildCompleted(_Recorded):
    type: ClassVar[EventType] = EventType.CHILD_COMPLETED
    ref: int
    result: str | None = field(metadata=PAYLOAD)
    inbox: int


@event
class ChildFailed(_Recorded):
    type: ClassVar[EventType] = EventType.CHILD_FAILED
    ref: int
    inbox: int
    error_type: str
    message: str


EXTERNAL_TASK = "external task"  # the name column of every ExternalTaskStarted


@event
class ExternalTaskStarted(_Recorded):
    """A durable wait for a task token, with its timeout and heartbeat timers, if any."""

    type: ClassVar[EventType] = EventType.EXTERNAL_TASK_STARTED
    ref: int
    token: str
    timeout_timer: int | None = field(default=None, metadata=OPTIONAL)
    timeout_at: int | None = field(default=None, metadata=OPTIONAL)
    heartbeat_timer: int | None = field(default=None, metadata=OPTIONAL)
    heartbeat_at: int | None = field(default=None, metadata=OPTIONAL)


@event
class ExternalTaskHeartbeat(_Recorded):
    type: ClassVar[EventType] = EventType.EXTERNAL_TASK_HEARTBEAT
    ref: int
    inbox: int
    deadline: int | None = field(default=None, metadata=OPTIONAL)  # the re-armed timer's


@event
class ExternalTaskCompleted(_Recorded):
    type: ClassVar[EventType] = EventType.EXTERNAL_TASK_COMPLETED
    ref: int
    result: str | None = field(metadata=PAYLOAD)
    inbox: int


@event
class ExternalTaskFailed(_Recorded):
    """Failed by a task-token call (``inbox``) or by one of its timers (``timer``)."""

    type: ClassVar[EventType] = EventType.EXTERNAL_TASK_FAILED
    ref: int
    inbox: int | None = field(default=None, metadata=OPTIONAL)
    error_type: str = ""
    message: str = ""
    timer: int | None = field(default=None, metadata=OPTIONAL)


#: Events that settle something a command waits for (a step, a timer, a child, a token).
WaitEvent: TypeAlias = (
    StepCompleted
    | StepFailed
    | TimerFired
    | ChildStarted
    | ChildCompleted
    | ChildFailed
    | ExternalTaskHeartbeat
    | ExternalTaskCompleted
    | ExternalTaskFailed
)
#: Events that feed the workflow code: those, signals and cancellation (no command waits).
InputEvent: TypeAlias = WaitEvent | SignalReceived | CancelRequested
#: Events that record a command the code issued; replay checks the code issues them again.
CommandEvent: TypeAlias = (
    StepScheduled
    | TimerStarted
    | StateEntered
    | StateExited
    | ChildScheduled
    | ExternalTaskStarted
    | CompensationStarted
    | CompensationCompleted
)
#: Events about the execution as a whole.
LifecycleEvent: TypeAlias = (
    ExecutionStarted
    | ExecutionCompleted
    | ExecutionFailed
    | ExecutionSuspended
    | ExecutionResumed
    | ExecutionCancelled
    | ExecutionTerminated
    | ExecutionTimedOut
    | ExecutionRedriven
    | StepRetryScheduled
)
#: The events that close an execution.
ClosingEvent: TypeAlias = (
    ExecutionCompleted
    | ExecutionFailed
    | ExecutionCancelled
    | ExecutionTerminated
    | ExecutionTimedOut
)
Event: TypeAlias = InputEvent | CommandEvent | LifecycleEvent

INPUT_EVENTS: tuple[type[InputEvent], ...] = get_args(InputEvent)
COMMAND_EVENTS: tuple[type[CommandEvent], ...] = get_args(CommandEvent)
EVENT_CLASSES: dict[EventType, type[Event]] = {
    cls.type: cls for cls in (*INPUT_EVENTS, *COMMAND_EVENTS, *get_args(LifecycleEvent))
}
