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

``admit`` and what it reads and returns are in ``legato.core.admit``. ``start``,
``pending_start`` and ``suspend`` build the other transitions an execution has: its first, one
a client records for an engine to pick up, and the one that parks it for an operator.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple, assert_never

from legato.core import error_names, trace_context
from legato.core.admit import NOTHING, Admitted
from legato.core.commands import (
    CancelExecution,
    Command,
    CompleteExecution,
    FailExecution,
    MarkCompensation,
    RecordState,
    ScheduleStep,
    StartChild,
    StartExternalTask,
    StartTimer,
)
from legato.core.events import (
    EXECUTION_TIMEOUT_TIMER,
    EXTERNAL_TASK,
    ChildScheduled,
    ClosingEvent,
    CompensationCompleted,
    CompensationStarted,
    Event,
    ExecutionCancelled,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionRedriven,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
    ExecutionTerminated,
    ExecutionTimedOut,
    ExternalTaskStarted,
    InputEvent,
    StateEntered,
    StateExited,
    Status,
    StepScheduled,
    SuspendKind,
    TimerStarted,
)
from legato.core.partitions import partition_of
from legato.core.transition import (
    ChildStart,
    ExecutionUpdate,
    NewExecution,
    Task,
    TaskRetry,
    Transition,
)


class Activation(NamedTuple):
    """What the workflow code did with the events it was fed."""

    accepted: tuple[InputEvent, ...]  # the fed events it took (duplicates left out)
    commands: tuple[Command, ...]
    cancelled_timers: tuple[int, ...] = ()  # timers it no longer needs (a wait that ended)
    outstanding: bool = False  # it closed with waits left over (the close purges their rows)
    cancel_steps: tuple[int, ...] = ()  # running steps a cancellation request asks to stop


class Rebuild(NamedTuple):
    """A redriven execution's outstanding waits, whose rows its close deleted: made again
    (steps as fresh tasks, with a fresh retry budget), with no new events."""

    steps: tuple[ScheduleStep, ...]
    timers: tuple[tuple[int, int], ...]  # (timer id, fire_at)


class Basis(NamedTuple):
    """The execution as the decider found it."""

    execution_id: str
    seq: int  # the last history seq it saw: the transition's guard
    now: int
    sticky: bool = True  # was in memory, so its row is RUNNING already: only progress changes
    resumed: bool = False  # replayed out of SUSPENDED: record it, hand its tasks out again
    reports_to_parent: bool = False  # a closing execution has news for a parent's inbox
    has_children: bool = False  # a close tells its open children (their close policy)
    pending: bool = False  # its row is PENDING (a start, redrive or resume): make it RUNNING
    arm_timeout: int | None = None  # first decision of a PENDING execution: its deadline
    rebuild: Rebuild | None = None  # first decision after a redrive
    traceparent: str | None = None  # its span's context, when not derived from its id


class Placement(NamedTuple):
    """Where new tasks go: a step this process's worker has, on a queue it serves, is leased
    to it; any other waits for the claim of a worker that has it (a rolling deploy may leave
    this process without a step its workflows call). A process that is stopping places
    nothing locally."""

    owner: str
    lease_ms: int
    local_queues: frozenset[str]
    local_steps: frozenset[str]


def decide(
    basis: Basis, admitted: Admitted, activation: Activation, placement: Placement
) -> Transition | None:
    """The transition recording one decision; None if it has nothing to write. A pending
    execution's first decision is always written, events or not (its code may only wait for
    a signal): the row must say RUNNING, or its inbox is never read."""
    head: list[Event] = list(activation.accepted)
    if basis.resumed or admitted.retried:  # these go first: resumed, then retries
        first: list[Event] = [ExecutionResumed(basis.now)] if basis.resumed else []
        head = first + [r.event for r in admitted.retried] + head
    tr = _assemble(basis, head, admitted, activation, placement)
    if not tr.events and not tr.inbox_deletes and not basis.pending:
        return None
    return tr


def time_out(basis: Basis, admitted: Admitted, timeout_ms: int) -> Transition:
    """The execution's own timeout came due: it closes TIMED_OUT and no more code runs."""
    closing = ExecutionTimedOut(basis.now, timeout_ms)
    return _closed_abruptly(basis, closing, admitted.consumed_inbox)


def terminate(
    execution_id: str, seq: int, current_step: str | None, now: int, reason: str | None
) -> Transition:
    """An operator's terminate: closed at once, whatever it waits for; no code runs."""
    basis = Basis(execution_id, seq, now, sticky=False, has_children=True)
    return _closed_abruptly(basis, ExecutionTerminated(now, reason), (), current_step)


def _closed_abruptly(
    basis: Basis, closing: ClosingEvent, consumed: tuple[int, ...], current: str | None = None
) -> Transition:
    update = _update(basis, current, closing)
    return Transition(
        basis.execution_id, basis.seq, basis.now, (closing,), update,
        inbox_deletes=consumed, purge=True, wakes_inbox=basis.reports_to_parent,
        cascades=basis.has_children,
    )  # fmt: skip


def redrive(
    execution_id: str, seq: int, current_step: str | None, now: int, void_from: int, count: int
) -> Transition:
    """Reopen a closed execution (``legato.core.redrive`` finds ``void_from``): PENDING for
    the engine that serves it, which replays it without the void events and goes on."""
    event = ExecutionRedriven(now, void_from, count)
    update = ExecutionUpdate(Status.PENDING, current_step)
    return Transition(execution_id, seq, now, (event,), update)


def resume(execution_id: str, seq: int, current_step: str | None, now: int) -> Transition:
    """Retry a SUSPENDED execution with the code now running: PENDING for the engine that
    serves it (a replay that still fails suspends it again)."""
    return Transition(execution_id, seq, now, (), ExecutionUpdate(Status.PENDING, current_step))


def start(
    started: ExecutionStarted,
    basis: Basis,
    activation: Activation,
    placement: Placement,
    labels: str | None = None,
    started_by: str | None = None,
) -> NewExecution:
    """A new execution recorded together with its first decision: one commit. ``labels``: a
    JSON object of strings, or None; ``started_by``: a JSON object saying what started it."""
    tr = _assemble(basis, [started], NOTHING, activation, placement)
    return _new_execution(started, tr, labels, started_by)


def pending_start(
    execution_id: str,
    workflow: str,
    version: str,
    input_json: str,
    now: int,
    timeout_ms: int | None = None,
    labels: str | None = None,
    started_by: str | None = None,
    traceparent: str | None = None,
) -> NewExecution:
    """An execution recorded PENDING, for whichever engine serves the database to decide;
    ``traceparent``: the trace it is started in."""
    started = ExecutionStarted(
        now, workflow, input_json, version, timeout_ms=timeout_ms, traceparent=traceparent
    )
    return _pending(execution_id, started, labels, started_by)


def suspend(
    execution_id: str,
    seq: int,
    current_step: str | None,
    now: int,
    kind: SuspendKind,
    reason: str,
    code: str | None = None,
) -> Transition:
    """Park an execution for an operator (an unknown workflow version, non-determinism): its
    waiting tasks are handed to no worker until it resumes. ``code``: the hash of the code
    that failed to replay it (an engine with other code retries it by itself)."""
    event = ExecutionSuspended(now, kind, reason, code=code)
    update = ExecutionUpdate(Status.SUSPENDED, current_step, reason=reason, suspend_kind=kind)
    return Transition(execution_id, seq, now, (event,), update, park=True)


def _pending(
    execution_id: str,
    started: ExecutionStarted,
    labels: str | None = None,
    started_by: str | None = None,
) -> NewExecution:
    tr = Transition(execution_id, 0, started.ts, (started,), ExecutionUpdate(Status.PENDING, None))
    return _new_execution(started, tr, labels, started_by)


def _new_execution(
    started: ExecutionStarted,
    tr: Transition,
    labels: str | None = None,
    started_by: str | None = None,
) -> NewExecution:
    eid = tr.execution_id
    return NewExecution(
        eid,
        started.workflow,
        started.version,
        started.input,
        tr.now,
        tr,
        partition_of(eid),
        labels,
        started_by,
    )


def _assemble(
    basis: Basis,
    head: list[Event],
    admitted: Admitted,
    activation: Activation,
    placement: Placement,
) -> Transition:
    eid, now = basis.execution_id, basis.now
    events = head
    tasks: list[Task] = []
    local: list[Task] = []
    timers: list[tuple[int, int]] = []
    children: list[ChildStart] = []
    current: str | None = None
    closing: ClosingEvent | None = None
    deadline: int | None = None  # the earliest start deadline of the tasks it adds
    if basis.arm_timeout is not None or basis.rebuild is not None:
        _rebuild(basis, placement, tasks, local, timers)
    for cmd in activation.commands:
        match cmd:
            case ScheduleStep():
                events.append(StepScheduled(now, cmd.step_id, cmd.name, cmd.args, cmd.queue))
                task = _task(eid, cmd, now, placement, basis.traceparent)
                tasks.append(task)
                if task.lease_owner is not None:
                    local.append(task)
                elif task.start_by is not None:
                    deadline = min(deadline or task.start_by, task.start_by)
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
                children.append(_child_start(eid, cmd, now, basis.traceparent))
                current = cmd.workflow
            case StartExternalTask():
                events.append(_external_started(now, cmd))
                timers += [t for t in (cmd.timeout_timer, cmd.heartbeat_timer) if t is not None]
                current = EXTERNAL_TASK
            case MarkCompensation():
                if cmd.started:
                    events.append(CompensationStarted(now, cmd.ref, cmd.count))
                else:
                    events.append(CompensationCompleted(now, cmd.ref))
            case CompleteExecution():
                closing = ExecutionCompleted(now, cmd.result)
                events.append(closing)
            case FailExecution():
                closing = ExecutionFailed(
                    now, cmd.error_type, cmd.message, cmd.traceback, cause_ref=cmd.cause_ref
                )
                events.append(closing)
            case CancelExecution():
                closing = ExecutionCancelled(now, cmd.reason)
                events.append(closing)
            case _:
                assert_never(cmd)
    update = _update(basis, current, closing)
    retries, retried_local = _retries(admitted, now, placement) if admitted.retried else ((), ())
    timer_inserts, timer_deletes = (
        _timers(timers, admitted, activation.cancelled_timers)
        if timers or admitted.fired_timers or admitted.rearmed_timers or activation.cancelled_timers
        else ((), ())
    )
    return Transition(  # positional, in field order: the hot path's one transition
        eid,
        basis.seq,
        now,
        tuple(events),
        update,
        tuple(tasks) if tasks else (),  # task_inserts
        admitted.done_tasks,  # task_deletes
        retries,  # task_retries
        timer_inserts,
        timer_deletes,
        admitted.consumed_inbox,  # inbox_deletes
        tuple(children) if children else (),  # child_starts
        closing is not None and activation.outstanding,  # purge
        False,  # park
        basis.resumed,  # unpark
        (*local, *retried_local) if retried_local else tuple(local) if local else (),
        bool(children) or (closing is not None and basis.reports_to_parent),  # wakes_inbox
        tuple(f"{eid}:{i}" for i in activation.cancel_steps) if activation.cancel_steps else (),
        closing is not None and basis.has_children,  # cascades
        deadline,  # start_deadline
    )


def _task(
    eid: str, cmd: ScheduleStep, now: int, placement: Placement, traceparent: str | None
) -> Task:
    """A step this process's worker has, on a queue it serves, is leased to it already: it
    runs right after the commit, with no claim round trip (DESIGN.md §5), and has started (no
    start deadline). Others wait for the claim of a worker that has the step."""
    if cmd.queue in placement.local_queues and cmd.name in placement.local_steps:
        return Task(f"{eid}:{cmd.step_id}", eid, cmd.step_id, cmd.name, cmd.queue,
                    cmd.args, now, 1, placement.owner, now + placement.lease_ms,
                    traceparent=traceparent)  # fmt: skip
    return Task(f"{eid}:{cmd.step_id}", eid, cmd.step_id, cmd.name, cmd.queue,
                cmd.args, now, 0, None, None, None, None, cmd.start_by, traceparent)  # fmt: skip


def _rebuild(
    basis: Basis,
    placement: Placement,
    tasks: list[Task],
    local: list[Task],
    timers: list[tuple[int, int]],
) -> None:
    """The rows an execution's first decision after a start or a redrive makes beyond its
    commands: its timeout timer, and the outstanding waits a redrive brings back."""
    if basis.arm_timeout is not None:
        timers.append((EXECUTION_TIMEOUT_TIMER, basis.arm_timeout))
    if basis.rebuild is not None:
        for step in basis.rebuild.steps:
            task = _task(basis.execution_id, step, basis.now, placement, basis.traceparent)
            tasks.append(task)
            if task.lease_owner is not None:
                local.append(task)
        timers += basis.rebuild.timers


def _update(basis: Basis, current: str | None, closing: ClosingEvent | None) -> ExecutionUpdate:
    if closing is None:  # the common case, first
        return _progress(current) if basis.sticky else ExecutionUpdate(Status.RUNNING, current)
    now = basis.now
    match closing:
        case ExecutionCompleted():
            return ExecutionUpdate(Status.COMPLETED, current, output=closing.result, closed_at=now)
        case ExecutionFailed():
            return ExecutionUpdate(Status.FAILED, current, error_type=closing.error_type,
                                   error_message=closing.message, closed_at=now)  # fmt: skip
        case ExecutionCancelled():
            return ExecutionUpdate(Status.CANCELLED, current, error_type=error_names.CANCELLED,
                                   error_message=closing.reason or "cancelled",
                                   reason=closing.reason, closed_at=now)  # fmt: skip
        case ExecutionTerminated():
            return ExecutionUpdate(Status.TERMINATED, current, error_type=error_names.TERMINATED,
                                   error_message=closing.reason or "terminated",
                                   reason=closing.reason, closed_at=now)  # fmt: skip
        case ExecutionTimedOut():
            message = f"the execution ran past its timeout of {closing.timeout_ms / 1000:g}s"
            return ExecutionUpdate(Status.TIMED_OUT, current, error_type=error_names.TIMEOUT,
                                   error_message=message, closed_at=now)  # fmt: skip
        case _:
            assert_never(closing)


@lru_cache(maxsize=4096)
def _progress(current: str | None) -> ExecutionUpdate:
    """The update of a decision that changes only progress: immutable, so made once per step
    name."""
    return ExecutionUpdate(Status.RUNNING, current, progress_only=True)


def _retries(
    admitted: Admitted, now: int, placement: Placement
) -> tuple[tuple[TaskRetry, ...], tuple[Task, ...]]:
    """Each retried attempt back in the queue after its delay, pre-leased to this process if
    its worker has the step and serves the queue (it holds the lease until then)."""
    retries: list[TaskRetry] = []
    local: list[Task] = []
    for r in admitted.retried:
        task, at = r.task, now + r.event.delay_ms
        if task.queue in placement.local_queues and task.name in placement.local_steps:
            owner, expires = placement.owner, at + placement.lease_ms
        else:
            owner, expires = None, None
        retries.append(TaskRetry(task.id, task.attempt, at, owner, expires))
        if owner is not None:
            again = task._replace(
                available_at=at,
                attempt=task.attempt + 1,
                lease_owner=owner,
                lease_expires_at=expires,
                outcome=None,
                heartbeat_details=r.heartbeat_details,
            )
            local.append(again)
    return tuple(retries), tuple(local)


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


def _child_start(
    parent_id: str, cmd: StartChild, now: int, parent_traceparent: str | None
) -> ChildStart:
    """The child's row and first event, PENDING for the orchestrator that owns it; it is
    started in its parent's span (``trace_context``)."""
    started = ExecutionStarted(
        now, cmd.workflow, cmd.input, cmd.version, parent_id=parent_id,
        parent_ref=cmd.command_id, timeout_ms=cmd.timeout_ms,
        traceparent=trace_context.of(parent_id, parent_traceparent),
    )  # fmt: skip
    new = _pending(cmd.child_id, started)
    return ChildStart(new, parent_id, cmd.command_id, cmd.wait, cmd.close_policy)
