"""Redrive: reopening a FAILED, TIMED_OUT or CANCELLED execution where it failed.

The history stays append-only. ``ExecutionRedriven(void_from)`` marks the events from
``void_from`` up to itself as void: replay skips them, so the code meets the point where it
failed as if for the first time, with the code now running. What is voided:

- FAILED on a step, child or external task the code did not catch (``cause_ref``): from that
  command's failure on, so it runs again with a fresh retry budget. For a state machine
  ``cause_ref`` is the failed state's ``StateEntered``: the state is entered again, as Step
  Functions' RedriveExecution does.
- FAILED by the code itself (an exception of its own): only the close; the events that made it
  fail are fed again to the code now running.
- CANCELLED: from the cancellation request on; TIMED_OUT: only the close.

An execution whose compensations ran to the end was rolled back: redriving it would go on from
a state the compensations undid, so it is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from legato.core.commands import ScheduleStep
from legato.core.events import (
    REDRIVABLE_STATUSES,
    CancelRequested,
    ChildFailed,
    CompensationCompleted,
    Event,
    ExecutionCancelled,
    ExecutionFailed,
    ExecutionRedriven,
    ExecutionTimedOut,
    ExternalTaskFailed,
    ExternalTaskStarted,
    StateEntered,
    Status,
    StepCompleted,
    StepFailed,
    StepScheduled,
    TimerStarted,
)


class NotRedrivable(Exception):
    """Why an execution cannot be redriven; the client turns it into a user error."""


def void_point(history: Sequence[Event], status: Status) -> int:
    """The seq from which a redrive voids the history (see the module docstring)."""
    if status not in REDRIVABLE_STATUSES:
        allowed = ", ".join(sorted(s.value for s in REDRIVABLE_STATUSES))
        raise NotRedrivable(f"it is {status.value}; only {allowed} executions can be redriven")
    live = live_history(history)
    if not live:
        raise NotRedrivable("its history is empty")
    close = live[-1]
    void_from = close.seq
    if isinstance(close, ExecutionFailed) and close.cause_ref is not None:
        void_from = _failure_of(live, close.cause_ref, close.seq)
    elif isinstance(close, ExecutionCancelled):
        requests = [e.seq for e in live if isinstance(e, CancelRequested)]
        void_from = requests[0] if requests else close.seq
    elif not isinstance(close, ExecutionFailed | ExecutionTimedOut):
        raise NotRedrivable(f"its history ends with {type(close).__name__}, not a failure")
    if any(isinstance(e, CompensationCompleted) and e.seq >= void_from for e in live):
        raise NotRedrivable(
            "its compensations ran to the end (it was rolled back): start a new execution"
        )
    return void_from


def _failure_of(live: Sequence[Event], ref: int, close_seq: int) -> int:
    for event in live:
        if isinstance(event, StateEntered) and event.ref == ref:
            return event.seq  # a state machine: enter the failed state again
    for event in reversed(live):
        failed = isinstance(event, StepFailed | ChildFailed | ExternalTaskFailed)
        if failed and event.ref == ref:  # type: ignore[union-attr]
            return event.seq
    return close_seq


def redrive_count(history: Sequence[Event]) -> int:
    return sum(1 for e in history if isinstance(e, ExecutionRedriven))


def live_history(history: Sequence[Event]) -> list[Event]:
    """The history without its void events (the redrive events themselves stay)."""
    voids = [(e.void_from, e.seq) for e in history if isinstance(e, ExecutionRedriven)]
    if not voids:
        return list(history)
    return [e for e in history if not any(lo <= e.seq < hi for lo, hi in voids)]


def outstanding(
    live: Sequence[Event], waits_for: Callable[[int], bool]
) -> tuple[tuple[ScheduleStep, ...], tuple[tuple[int, int], ...]]:
    """The steps and timers a replayed execution still waits for, whose rows its close
    deleted: (steps to schedule again, (timer id, fire_at) to arm again)."""
    steps: dict[int, ScheduleStep] = {}
    timers: list[tuple[int, int]] = []
    for e in live:
        if isinstance(e, StepScheduled):
            steps[e.ref] = ScheduleStep(e.ref, e.name, e.queue, e.args)
        elif isinstance(e, StepCompleted | StepFailed):
            steps.pop(e.ref, None)
        elif isinstance(e, TimerStarted) and waits_for(e.ref):
            timers.append((e.ref, e.fire_at))
        elif isinstance(e, ExternalTaskStarted) and waits_for(e.ref):
            for timer, at in ((e.timeout_timer, e.timeout_at), (e.heartbeat_timer, e.heartbeat_at)):
                if timer is not None and at is not None:
                    timers.append((timer, at))
    return tuple(s for ref, s in steps.items() if waits_for(ref)), tuple(timers)
