"""Deciding: from what happened to one execution, to the ``Transition`` that records it.

Pure functions, no I/O, clock, randomness or logging; inputs and outputs are immutable. A
decision is made in three moves, and the engine makes only the middle one:

1. ``admit(waits, inputs, now)``: what the inputs mean. A step result, a due timer or an inbox
   message becomes an event the workflow code is fed, a retry, or nothing (a duplicate, a late
   answer for something already settled).
2. The engine feeds ``Admitted.feed`` to the workflow instance (the code, or the state machine
   interpreter), which answers with an ``Activation``: the events it took and its commands.
3. ``decide(basis, admitted, activation, placement)``: the whole transition — events, tasks,
   timers, inbox rows consumed, the executions row, children to start and whom to wake.

``start``, ``pending_start`` and ``suspend`` build the other transitions an execution has: its
first, one a client records for an engine to pick up, and the one that parks it for an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, assert_never

from legato.core import codec, error_names
from legato.core.commands import (
    Command,
    CompleteExecution,
    FailExecution,
    RecordState,
    ScheduleStep,
    StartChild,
    StartExternalTask,
    StartTimer,
)
from legato.core.events import (
    EXTERNAL_TASK,
    ChildCompleted,
    ChildFailed,
    ChildScheduled,
    ChildStarted,
    Event,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    ExternalTaskCompleted,
    ExternalTaskFailed,
    ExternalTaskHeartbeat,
    ExternalTaskStarted,
    InputEvent,
    SignalReceived,
    StateEntered,
    StateExited,
    Status,
    StepCompleted,
    StepFailed,
    StepRetryScheduled,
    StepScheduled,
    SuspendKind,
    TimerFired,
    TimerStarted,
)
from legato.core.messages import ChildNotice, InboxKind, InboxRow
from legato.core.outcome import Outcome
from legato.core.partitions import partition_of
from legato.core.retry import Retry
from legato.core.transition import (
    ChildStart,
    ExecutionUpdate,
    NewExecution,
    Task,
    TaskRetry,
    Transition,
)

# --- what a decision reads ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExternalTimers:
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


@dataclass(frozen=True, slots=True)
class StepOutcome:
    task: Task
    outcome: Outcome
    draw: float = 1.0  # a uniform draw in [0, 1) for a jittered retry delay


@dataclass(frozen=True, slots=True)
class TimerDue:
    timer_id: int


@dataclass(frozen=True, slots=True)
class MessageArrived:
    row: InboxRow


Input = StepOutcome | TimerDue | MessageArrived


@dataclass(frozen=True, slots=True)
class Retried:
    """A failed attempt that runs again after ``event.delay_ms``."""

    event: StepRetryScheduled
    task: Task  # the attempt that failed
    heartbeat_details: str | None  # handed to the next attempt


@dataclass(frozen=True, slots=True)
class Admitted:
    feed: tuple[InputEvent, ...]  # for the workflow code, in order
    retried: tuple[Retried, ...] = ()
    done_tasks: tuple[tuple[str, int], ...] = ()  # (task id, attempt) whose result is fed
    fired_timers: tuple[int, ...] = ()
    rearmed_timers: tuple[tuple[int, int], ...] = ()  # heartbeat timers moved on
    consumed_inbox: tuple[int, ...] = ()


NOTHING = Admitted(feed=())


@dataclass(frozen=True, slots=True)
class Activation:
    """What the workflow code did with the events it was fed."""

    accepted: tuple[InputEvent, ...]  # the fed events it took (duplicates left out)
    commands: tuple[Command, ...]
    cancelled_timers: tuple[int, ...] = ()  # timers it no longer needs (a wait that ended)
    outstanding: bool = False  # it still waits for something (a close then purges that)


@dataclass(frozen=True, slots=True)
class Basis:
    """The execution as the decider found it."""

    execution_id: str
    seq: int  # the last history seq it saw: the transition's guard
    now: int
    sticky: bool = True  # was in memory, so its row is RUNNING already: only progress changes
    resumed: bool = False  # replayed out of SUSPENDED: record it, hand its tasks out again
    reports_to_parent: bool = False  # a closing execution has news for a parent's inbox


@dataclass(frozen=True, slots=True)
class Placement:
    """Where new tasks go: steps for a queue this process's worker serves are leased to it."""

    owner: str
    lease_ms: int
    local_queues: frozenset[str]


# --- 1. admit ---------------------------------------------------------------------------------


def admit(waits: Waits, inputs: Sequence[Input], now: int) -> Admitted:
    """What the inputs mean for an execution that waits for ``waits``."""
    feed: list[InputEvent] = []
    retried: list[Retried] = []
    done: list[tuple[str, int]] = []
    fired: list[int] = []
    rearmed: list[tuple[int, int]] = []
    consumed: list[int] = []
    settled: set[int] = set()  # commands an earlier input of this decision resolved
    for item in inputs:
        match item:
            case StepOutcome(task=task):
                if task.step_id in settled:
                    continue  # delivered twice in one batch (locally and by a poll)
                verdict = _step_outcome(waits, item, now)
                if verdict is not None:
                    settled.add(task.step_id)
                if isinstance(verdict, Retried):
                    retried.append(verdict)
                elif verdict is not None:
                    done.append((task.id, task.attempt))
                    feed.append(verdict)
            case TimerDue(timer_id=timer_id):
                if timer_id in fired:
                    continue
                if waits.waits_for(timer_id):
                    feed.append(TimerFired(now, ref=timer_id))
                    fired.append(timer_id)
                else:
                    failed = _external_timer(waits, timer_id, now, settled, rearmed)
                    if failed is not None:
                        settled.add(failed.ref)
                        fired.append(timer_id)
                        feed.append(failed)
            case MessageArrived(row=row):
                if row.id in consumed or waits.has_consumed(row.id):
                    continue
                consumed.append(row.id)
                event = _message(waits, row, now, settled, rearmed)
                if event is not None:
                    feed.append(event)
            case _:
                assert_never(item)
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
        delay_ms = round(policy.delay(task.attempt, item.draw) * 1000)
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


# --- 3. decide --------------------------------------------------------------------------------


def decide(
    basis: Basis, admitted: Admitted, activation: Activation, placement: Placement
) -> Transition | None:
    """The transition recording one decision; None if it has nothing to write."""
    head: list[Event] = [ExecutionResumed(basis.now)] if basis.resumed else []
    head += [r.event for r in admitted.retried]
    head += activation.accepted
    tr = _assemble(basis, head, admitted, activation, placement, Status.RUNNING)
    if not tr.events and not tr.inbox_deletes:
        return None
    return tr


def start(
    started: ExecutionStarted, basis: Basis, activation: Activation, placement: Placement
) -> NewExecution:
    """A new execution recorded together with its first decision: one commit."""
    tr = _assemble(basis, [started], NOTHING, activation, placement, Status.RUNNING)
    return _new_execution(started, tr)


def pending_start(
    execution_id: str, workflow: str, version: str, input_json: str, now: int
) -> NewExecution:
    """An execution recorded PENDING, for whichever engine serves the database to decide."""
    started = ExecutionStarted(now, workflow, input_json, version)
    tr = Transition(execution_id, 0, now, (started,), ExecutionUpdate(Status.PENDING, None))
    return _new_execution(started, tr)


def suspend(
    execution_id: str, seq: int, current_step: str | None, now: int, kind: SuspendKind, reason: str
) -> Transition:
    """Park an execution for an operator (an unknown workflow version, non-determinism): its
    waiting tasks are handed to no worker until it resumes."""
    event = ExecutionSuspended(now, kind, reason)
    update = ExecutionUpdate(Status.SUSPENDED, current_step, reason=reason, suspend_kind=kind)
    return Transition(execution_id, seq, now, (event,), update, park=True)


def _new_execution(started: ExecutionStarted, tr: Transition) -> NewExecution:
    eid = tr.execution_id
    return NewExecution(
        eid, started.workflow, started.version, started.input, tr.now, tr, partition_of(eid)
    )


def _assemble(
    basis: Basis,
    head: list[Event],
    admitted: Admitted,
    activation: Activation,
    placement: Placement,
    status: Status,
) -> Transition:
    eid, now = basis.execution_id, basis.now
    events = head
    tasks: list[Task] = []
    local: list[Task] = []
    timers: list[tuple[int, int]] = []
    children: list[ChildStart] = []
    current: str | None = None
    closing: ExecutionCompleted | ExecutionFailed | None = None
    for cmd in activation.commands:
        match cmd:
            case ScheduleStep():
                events.append(StepScheduled(now, cmd.step_id, cmd.name, cmd.args, cmd.queue))
                task = _new_task(eid, cmd, now, placement)
                tasks.append(task)
                if task.lease_owner is not None:
                    local.append(task)
                current = cmd.name
            case RecordState():
                if cmd.exited:
                    events.append(StateExited(now, cmd.record_id, cmd.state, cmd.data))
                else:
                    events.append(StateEntered(now, cmd.record_id, cmd.state, cmd.data))
                    current = cmd.state
            case StartTimer():
                events.append(TimerStarted(now, cmd.timer_id, cmd.name, cmd.fire_at))
                timers.append((cmd.timer_id, cmd.fire_at))
                current = cmd.name
            case StartChild():
                events.append(
                    ChildScheduled(
                        now, cmd.command_id, cmd.workflow, cmd.input, cmd.child_id, cmd.wait
                    )
                )
                children.append(_child_start(eid, cmd, now))
                current = cmd.workflow
            case StartExternalTask():
                events.append(_external_started(now, cmd))
                timers += [t for t in (cmd.timeout_timer, cmd.heartbeat_timer) if t is not None]
                current = EXTERNAL_TASK
            case CompleteExecution():
                closing = ExecutionCompleted(now, cmd.result)
                events.append(closing)
            case FailExecution():
                closing = ExecutionFailed(now, cmd.error_type, cmd.message, cmd.traceback)
                events.append(closing)
            case _:
                assert_never(cmd)
    update = _update(basis, status, current, closing)
    retries, retried_local = _retries(admitted, now, placement)
    timer_inserts, timer_deletes = _timers(timers, admitted, activation.cancelled_timers)
    return Transition(
        eid,
        basis.seq,
        now,
        tuple(events),
        update,
        task_inserts=tuple(tasks),
        task_deletes=admitted.done_tasks,
        task_retries=retries,
        timer_inserts=timer_inserts,
        timer_deletes=timer_deletes,
        inbox_deletes=admitted.consumed_inbox,
        child_starts=tuple(children),
        purge=closing is not None and activation.outstanding,
        unpark=basis.resumed,
        local_tasks=(*local, *retried_local),
        wakes_inbox=bool(children) or (closing is not None and basis.reports_to_parent),
    )


def _update(
    basis: Basis,
    status: Status,
    current: str | None,
    closing: ExecutionCompleted | ExecutionFailed | None,
) -> ExecutionUpdate:
    match closing:
        case None:
            return ExecutionUpdate(status, current, progress_only=basis.sticky)
        case ExecutionCompleted(result=result):
            return ExecutionUpdate(Status.COMPLETED, current, output=result, closed_at=basis.now)
        case ExecutionFailed(error_type=error_type, message=message):
            return ExecutionUpdate(
                Status.FAILED,
                current,
                error_type=error_type,
                error_message=message,
                closed_at=basis.now,
            )
        case _:
            assert_never(closing)


def _new_task(eid: str, cmd: ScheduleStep, now: int, placement: Placement) -> Task:
    # A step for a queue this process serves is leased to it already: it runs right after the
    # commit, with no claim round trip (DESIGN.md §5). Others wait for any worker's claim.
    if cmd.queue in placement.local_queues:
        owner, expires, attempt = placement.owner, now + placement.lease_ms, 1
    else:
        owner, expires, attempt = None, None, 0
    return Task(
        f"{eid}:{cmd.step_id}", eid, cmd.step_id, cmd.name, cmd.queue, cmd.args, now, attempt,
        owner, expires,
    )  # fmt: skip


def _retries(
    admitted: Admitted, now: int, placement: Placement
) -> tuple[tuple[TaskRetry, ...], list[Task]]:
    """Each retried attempt back in the queue after its delay, pre-leased to this process if
    it serves the queue (its worker holds it until then)."""
    retries: list[TaskRetry] = []
    local: list[Task] = []
    for r in admitted.retried:
        task, at = r.task, now + r.event.delay_ms
        if task.queue in placement.local_queues:
            owner, expires = placement.owner, at + placement.lease_ms
        else:
            owner, expires = None, None
        retries.append(TaskRetry(task.id, task.attempt, at, owner, expires))
        if owner is not None:
            local.append(
                Task(
                    task.id, task.execution_id, task.step_id, task.name, task.queue, task.args,
                    at, task.attempt + 1, owner, expires, None, r.heartbeat_details,
                )
            )  # fmt: skip
    return tuple(retries), local


def _timers(
    commands: list[tuple[int, int]], admitted: Admitted, cancelled: tuple[int, ...]
) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """(inserts, deletes). Timers that fired go, each once; a heartbeat timer moved on loses
    its old row for a new one, unless its wait ended in this decision too (then it just goes);
    a timer the code no longer needs goes."""
    rearmed = [t for t in admitted.rearmed_timers if t[0] not in cancelled]
    deletes = list(admitted.fired_timers)
    deletes += [t for t, _ in admitted.rearmed_timers if t not in deletes]
    deletes += [t for t in cancelled if t not in deletes]
    return (*commands, *rearmed), tuple(deletes)


def _external_started(now: int, cmd: StartExternalTask) -> ExternalTaskStarted:
    timeout, heartbeat = cmd.timeout_timer, cmd.heartbeat_timer
    return ExternalTaskStarted(
        now,
        cmd.command_id,
        cmd.token,
        timeout_timer=timeout[0] if timeout else None,
        timeout_at=timeout[1] if timeout else None,
        heartbeat_timer=heartbeat[0] if heartbeat else None,
        heartbeat_at=heartbeat[1] if heartbeat else None,
    )


def _child_start(parent_id: str, cmd: StartChild, now: int) -> ChildStart:
    """The child's row and first event, PENDING for the orchestrator that owns it."""
    started = ExecutionStarted(
        now, cmd.workflow, cmd.input, cmd.version, parent_id=parent_id, parent_ref=cmd.command_id
    )
    tr = Transition(cmd.child_id, 0, now, (started,), ExecutionUpdate(Status.PENDING, None))
    return ChildStart(_new_execution(started, tr), parent_id, cmd.command_id, cmd.wait)
