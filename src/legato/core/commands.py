"""Commands a workflow issues; the orchestrator turns each into events, tasks and timers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class ScheduleStep:
    step_id: int
    name: str
    args: str  # JSON [args, kwargs]


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


@dataclass(frozen=True, slots=True)
class CompleteExecution:
    result: str  # JSON


@dataclass(frozen=True, slots=True)
class FailExecution:
    error_type: str
    message: str
    traceback: str


Command: TypeAlias = (
    ScheduleStep | StartTimer | RecordState | CompleteExecution | FailExecution
)
