"""Admitting what happened to an execution: the first move of a decision (see
``legato.core.decide``).

A step result, a due timer or an inbox message becomes an event for the workflow code, a retry,
or nothing (a duplicate, a late answer for something already settled). Pure: the execution's
waits are read through the ``Waits`` protocol, time comes in as ``now`` and a retry's random
draw with its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, assert_never

from legato.core import codec, error_names
from legato.core.durations import to_ms
from legato.core.events import (
    EXECUTION_TIMEOUT_TIMER,
    CancelRequested,
    ChildCompleted,
    ChildFailed,
    ChildStarted,
    ExternalTaskCompleted,
    ExternalTaskFailed,
    ExternalTaskHeartbeat,
    InputEvent,
    SignalReceived,
    StepCompleted,
    StepFailed,
    StepRetryScheduled,
    TimerFired,
)
from legato.core.messages import ChildNotice, InboxKind, InboxRow, reason_of
from legato.core.outcome import Outcome
from legato.core.retry import Retry
from legato.core.transition import Task

# --- what a decision reads ----------------------------------------------------------------------


class ExternalTimers(NamedTuple):
    """An external task's timers as a decision reads them."""

    timeout_timer: int | None
    heartbeat_timer: int | None
    heartbeat_ms: int | None
    heartbeat_deadline: int | None  # epoch ms: the heartbeat timer's current due time


class Waits(Protocol):
    """What an execution waits for, read-only (the workflow instance answers)."""

    def waits_for(self, ref: int) -> bool:
        """A command (step, timer, child, external task) not yet resolved."""
        ...

    def retry_policy(self, step_id: int) -> Retry | None: ...
    def is_child(self, ref: int) -> bool: ...
    def external(self, ref: int) -> ExternalTimers | None: ...
    def external_for_timer(self, timer_id: int) -> tuple[int, ExternalTimers] | None:
        """The external wait one of whose timers this is, with its command number."""
        ...

    def has_consumed(self, inbox_id: int) -> bool:
        """Already recorded (a poll raced with the commit that consumed it)."""
        ...

    @property
    def cancel_requested(self) -> bool:
        """A cancellation request was recorded already (another is consumed silently)."""
        ...


class StepOutcome(NamedTuple):
    task: Task
    outcome: Outcome
    draw: float = 1.0  # a uniform draw in [0, 1) for a jittered retry delay
    local: bool = False  # from the deciding process's own worker (it holds the task's lease)


class TimerDue(NamedTuple):
    timer_id: int


class MessageArrived(NamedTuple):
    row: InboxRow


Input = StepOutcome | TimerDue | MessageArrived


class Retried(NamedTuple):
    """A failed attempt that runs again after ``event.delay_ms``."""

    event: StepRetryScheduled
    task: Task  # the attempt that failed
    heartbeat_details: str | None  # handed to the next attempt


class Admitted(NamedTuple):
    feed: tuple[InputEvent, ...]  # for the workflow code, in order
    retried: tuple[Retried, ...] = ()
    done_tasks: tuple[tuple[str, int], ...] = ()  # (task id, attempt) whose result is fed
    fired_timers: tuple[int, ...] = ()
    rearmed_timers: tuple[tuple[int, int], ...] = ()  # heartbeat timers moved on
    consumed_inbox: tuple[int, ...] = ()
    timed_out: bool = False  # the execution's own timeout came due: it closes, no code runs


NOTHING = Admitted(feed=())


def admit(waits: Waits, inputs: Sequence[Input], now: int) -> Admitted:
    """What the inputs mean for an execution that waits for ``waits``."""
    if len(inputs) == 1 and type(inputs[0]) is StepOutcome:  # the hot path: one step's result
        only = inputs[0]
        t, o = only.task, only.outcome
        if o.ok and waits.waits_for(t.step_id):
            completed = StepCompleted(now, t.step_id, t.name, o.result or "null", t.attempt)
            return Admitted((completed,), (), ((t.id, t.attempt),))
    feed: list[InputEvent] = []
    retried: list[Retried] = []
    done: list[tuple[str, int]] = []
    fired: list[int] = []
    rearmed: list[tuple[int, int]] = []
    consumed: list[int] = []
    timed_out = False
    settled: set[int] = set()  # commands an earlier input of this decision resolved
    waits_for = waits.waits_for
    for item in inputs:  # isinstance, not match: this is the hot path
        if isinstance(item, StepOutcome):
            task = item.task
            if task.step_id in settled:
                continue  # delivered twice in one batch (locally and by a poll)
            if item.outcome.ok:  # the common case, inline: a fan-in admits thousands
                if waits_for(task.step_id):
                    settled.add(task.step_id)
                    done.append((task.id, task.attempt))
                    result = item.outcome.result or "null"
                    feed.append(StepCompleted(now, task.step_id, task.name, result, task.attempt))
                continue
            verdict = _step_outcome(waits, item, now)
            if verdict is None:
                continue
            settled.add(task.step_id)
            if isinstance(verdict, Retried):
                retried.append(verdict)
            else:
                done.append((task.id, task.attempt))
                feed.append(verdict)
        elif isinstance(item, TimerDue):
            timer_id = item.timer_id
            if timer_id in fired:
                continue
            if timer_id == EXECUTION_TIMEOUT_TIMER:
                timed_out = True
                fired.append(timer_id)
            elif waits_for(timer_id):
                feed.append(TimerFired(now, ref=timer_id))
                fired.append(timer_id)
            else:
                failed = _external_timer(waits, timer_id, now, settled, rearmed)
                if failed is not None:
                    settled.add(failed.ref)
                    fired.append(timer_id)
                    feed.append(failed)
        elif isinstance(item, MessageArrived):
            row = item.row
            if row.id in consumed or waits.has_consumed(row.id):
                continue
            consumed.append(row.id)
            event = _message(waits, row, now, settled, rearmed)
            if event is not None:
                feed.append(event)
        else:
            assert_never(item)
    if timed_out:  # nothing else is recorded: the close purges what is left
        return Admitted((), (), (), tuple(fired), (), tuple(consumed), timed_out=True)
    return Admitted(
        tuple(feed), tuple(retried), tuple(done), tuple(fired), tuple(rearmed), tuple(consumed)
    )


def _step_outcome(
    waits: Waits, item: StepOutcome, now: int
) -> StepCompleted | StepFailed | Retried | None:
    """A completion feeds the code; a failure is retried (per the step's policy) or, once
    retries are exhausted or the error is non-retryable, fed to the code as a failure."""
    task, outcome = item.task, item.outcome
    if not waits.waits_for(task.step_id):
        return None  # a duplicate or late result: already decided
    if outcome.ok:
        return StepCompleted(now, task.step_id, task.name, outcome.result or "null", task.attempt)
    error_type, message = outcome.error_type or "", outcome.message or ""
    policy = waits.retry_policy(task.step_id)
    if (
        policy is not None
        and not outcome.non_retryable
        and policy.should_retry(task.attempt, outcome.error_types)
    ):
        delay_ms = to_ms(policy.delay(task.attempt, item.draw))
        event = StepRetryScheduled(
            now, task.step_id, task.name, task.attempt, error_type, message, delay_ms
        )
        return Retried(event, task, outcome.heartbeat_details or task.heartbeat_details)
    return StepFailed(
        now, task.step_id, task.name, task.attempt, error_type, message, outcome.traceback
    )


def _external_timer(
    waits: Waits, timer_id: int, now: int, settled: set[int], rearmed: list[tuple[int, int]]
) -> ExternalTaskFailed | None:
    """An external task's timeout or heartbeat timer came due: its wait fails, unless it is
    settled already or a heartbeat moved the timer on."""
    found = waits.external_for_timer(timer_id)
    if found is None:
        return None
    ref, wait = found
    if ref in settled or any(t == timer_id for t, _ in rearmed):
        return None
    if timer_id == wait.heartbeat_timer:
        if wait.heartbeat_deadline is not None and now < wait.heartbeat_deadline:
            return None  # an earlier due time; a heartbeat moved it on
        error, message = error_names.HEARTBEAT_TIMEOUT, "no heartbeat within the heartbeat timeout"
    else:
        error, message = (
            error_names.TIMEOUT,
            "the external task did not complete within its timeout",
        )
    return ExternalTaskFailed(now, ref, error_type=error, message=message, timer=timer_id)


def _message(
    waits: Waits, row: InboxRow, now: int, settled: set[int], rearmed: list[tuple[int, int]]
) -> InputEvent | None:
    """An inbox message as an event for the code. A signal is recorded whether or not the code
    waits for it (the history is the buffer); a message for something already settled (a
    second completion, a late child outcome) is consumed without an event."""
    if row.kind == InboxKind.SIGNAL:
        return SignalReceived(now, row.name or "", row.payload, row.id)
    if row.kind == InboxKind.CANCEL:
        if waits.cancel_requested or -1 in settled:
            return None
        settled.add(-1)  # once per decision too
        return CancelRequested(now, row.id, reason_of(row.payload))
    if row.kind == InboxKind.TERMINATE:
        return None  # the orchestrator terminates before deciding (legato.engine.operations)
    ref = row.ref
    if ref is None or ref in settled:
        return None
    if row.kind == InboxKind.CHILD:
        if not waits.is_child(ref):
            return None
        settled.add(ref)
        return _child_event(row, ref, now)
    wait = waits.external(ref)
    if wait is None:
        return None
    if row.kind == InboxKind.TASK_HEARTBEAT:
        deadline = None
        timer, hb_ms = wait.heartbeat_timer, wait.heartbeat_ms
        if timer is not None and hb_ms is not None:
            deadline = now + hb_ms
            if all(t != timer for t, _ in rearmed):  # re-armed once per decision
                rearmed.append((timer, deadline))
        return ExternalTaskHeartbeat(now, ref, row.id, deadline)
    settled.add(ref)
    if row.kind == InboxKind.TASK_SUCCESS:
        return ExternalTaskCompleted(now, ref, row.payload, row.id)
    failure = codec.loads(row.payload) or {}
    error = str(failure.get("error") or error_names.TASK_FAILED)
    return ExternalTaskFailed(
        now, ref, inbox=row.id, error_type=error, message=str(failure.get("cause") or "")
    )


def _child_event(row: InboxRow, ref: int, now: int) -> ChildStarted | ChildCompleted | ChildFailed:
    if row.name == ChildNotice.STARTED:
        return ChildStarted(now, ref, row.id, int(row.payload or now))
    if row.name == ChildNotice.COMPLETED:
        return ChildCompleted(now, ref, row.payload, row.id)
    detail = codec.loads(row.payload) or {}
    if row.name == ChildNotice.CONFLICT:
        error_type = "ExecutionAlreadyExists"
        message = (
            f"an execution with this id already exists (workflow {detail.get('workflow')!r}) "
            "with a different input, or as the child of another execution"
        )
    else:
        error_type, message = str(detail.get("error_type")), str(detail.get("message", ""))
    return ChildFailed(now, ref, row.id, error_type, message)
