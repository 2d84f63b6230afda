"""How replay compares what the code issues now with what the history recorded, and how a
difference is worded in a ``NonDeterminismError`` (and the reason an execution is suspended).

A command is identified by its kind and name (the step, the timer's purpose, the state, the
child workflow); its arguments and durations may change without a divergence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from legato.core.events import (
    EXTERNAL_TASK,
    ChildScheduled,
    CommandEvent,
    CompensationCompleted,
    CompensationStarted,
    ExternalTaskStarted,
    StateEntered,
    StateExited,
    StepScheduled,
    TimerStarted,
)

NOTHING = "nothing (the code no longer issues it)"
COMPENSATION = "compensation"  # the name compensation markers are issued under


@dataclass(frozen=True, slots=True)
class Issued:
    kind: type[CommandEvent]
    name: str

    def describe(self) -> str:
        kind, name = self.kind, self.name
        if kind is TimerStarted:
            return "a timer (ctx.sleep)" if name == "sleep" else f"a timer ({name})"
        if kind is ChildScheduled:
            return f"child workflow {name!r}"
        if kind is ExternalTaskStarted:
            return "an external task (ctx.external_task)"
        if kind is StateEntered:
            return f"entering state {name!r}"
        if kind is StateExited:
            return f"leaving state {name!r}"
        if kind is CompensationStarted:
            return "starting compensations"
        if kind is CompensationCompleted:
            return "finishing compensations"
        return f"step {name!r}"


def issued(recorded: CommandEvent) -> Issued:
    match recorded:
        case StepScheduled(name=name) | TimerStarted(name=name):
            return Issued(type(recorded), name)
        case StateEntered(state=state) | StateExited(state=state):
            return Issued(type(recorded), state)
        case ChildScheduled(workflow=workflow):
            return Issued(ChildScheduled, workflow)
        case ExternalTaskStarted():
            return Issued(ExternalTaskStarted, EXTERNAL_TASK)
        case CompensationStarted() | CompensationCompleted():
            return Issued(type(recorded), COMPENSATION)
        case _:
            assert_never(recorded)


def describe_recorded(recorded: CommandEvent) -> str:
    return issued(recorded).describe()
