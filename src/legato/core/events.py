"""History events: the append-only record that is each execution's only source of truth.

One generic, typed row shape for every event keeps storage, export and replay uniform; the event
kind is the closed enum ``EventType``. ``ref`` is the command id (step or timer) the event is
about, ``payload`` the raw JSON value it carries (input, arguments, result), ``meta`` its small
attributes. ``batch`` is the ``seq`` of the first event written in the same transition: replay
feeds a workflow exactly the groups of events it saw when it ran.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypeAlias

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
    STATE_ENTERED = "StateEntered"  # state machines: a state began, with its input
    STATE_EXITED = "StateExited"  # ... and ended, with its output
    SIGNAL_RECEIVED = "SignalReceived"  # name, payload; meta: the inbox row it came from
    CHILD_SCHEDULED = "ChildScheduled"  # a child execution started (or attached) with the parent
    CHILD_STARTED = "ChildStarted"  # start_child: the child exists (meta child_id, started_at)
    CHILD_COMPLETED = "ChildCompleted"
    CHILD_FAILED = "ChildFailed"
    EXTERNAL_TASK_STARTED = "ExternalTaskStarted"  # a wait for a task token (meta: the token)
    EXTERNAL_TASK_HEARTBEAT = "ExternalTaskHeartbeat"
    EXTERNAL_TASK_COMPLETED = "ExternalTaskCompleted"
    EXTERNAL_TASK_FAILED = "ExternalTaskFailed"


#: Events that feed the workflow code (they resolve something it waits for).
INPUT_EVENTS = frozenset(
    {
        EventType.EXECUTION_STARTED,
        EventType.STEP_COMPLETED,
        EventType.STEP_FAILED,
        EventType.TIMER_FIRED,
        EventType.SIGNAL_RECEIVED,
        EventType.CHILD_STARTED,
        EventType.CHILD_COMPLETED,
        EventType.CHILD_FAILED,
        EventType.EXTERNAL_TASK_HEARTBEAT,
        EventType.EXTERNAL_TASK_COMPLETED,
        EventType.EXTERNAL_TASK_FAILED,
    }
)
#: Events that record a command the workflow code issued; replay checks the code issues them again.
COMMAND_EVENTS = frozenset(
    {
        EventType.STEP_SCHEDULED,
        EventType.TIMER_STARTED,
        EventType.STATE_ENTERED,
        EventType.STATE_EXITED,
        EventType.CHILD_SCHEDULED,
        EventType.EXTERNAL_TASK_STARTED,
    }
)


@dataclass(slots=True)  # not frozen: a frozen __init__ costs on the hot path; never mutated
class Event:
    type: EventType
    ts: int
    ref: int | None = None
    name: str | None = None
    payload: str | None = None
    meta: dict[str, JSON] = field(default_factory=dict)
    seq: int = 0
    batch: int = 0


class Status(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"


CLOSED_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT})


class SuspendKind(enum.StrEnum):
    UNREGISTERED = "unregistered"
    NON_DETERMINISM = "non-determinism"
