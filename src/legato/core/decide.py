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

from legato.core.admit import NOTHING, Admitted
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
    ChildScheduled,
    Event,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionResumed,
    ExecutionStarted,
    ExecutionSuspended,
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


class Basis(NamedTuple):
    """The execution as the decider found it."""

    execution_id: str
    seq: int  # the last history seq it saw: the transition's guard
    now: int
    sticky: bool = True  # was in memory, so its row is RUNNING already: only progress changes
    resumed: bool = False  # replayed out of SUSPENDED: record it, hand its tasks out again
    reports_to_parent: bool = False  # a closing execution has news for a parent's inbox
    # PENDING (a client's start, a child): its first decision marks it RUNNING even when the
    # code only waits (a signal): until then its messages are not read
    picked_up: bool = False


class Placement(NamedTuple):
    """Where new tasks go: steps for a queue this process's worker serves are leased to it."""

    owner: str
    lease_ms: int
    local_queues: frozenset[str]


def decide(
    basis: Basis, admitted: Admitted, activation: Activation, placement: Placement
) -> Transition | None:
    """The transition recording one decision; None if it has nothing to write."""
    head: list[Event] = list(activation.accepted)
    if basis.resumed or admitted.retried:  # these go first: resumed, then retries
        first: list[Event] = [ExecutionResumed(basis.now)] if basis.resumed else []
        head = first + [r.event for r in admitted.retried] + head
    tr = _assemble(basis, head, admitted, activation, placement)
    if not tr.events and not tr.inbox_deletes and not basis.picked_up:
        return None
    return tr


def start(
    started: ExecutionStarted, basis: Basis, activation: Activation, placement: Placement
) -> NewExecution:
    """A new execution recorded together with its first decision: one commit."""
    return _new_execution(started, _assemble(basis, [started], NOTHING, activation, placement))


def pending_start(
    execution_id: str, workflow: str, version: str, input_json: str, now: int
) -> NewExecution:
    """An execution recorded PENDING, for whichever engine serves the database to decide."""
    return _pending(execution_id, ExecutionStarted(now, workflow, input_json, version))


def suspend(
    execution_id: str, seq: int, current_step: str | None, now: int, kind: SuspendKind, reason: str
) -> Transition:
    """Park an execution for an operator (an unknown workflow version, non-determinism): its
    waiting tasks are handed to no worker until it resumes."""
    event = ExecutionSuspended(now, kind, reason)
    update = ExecutionUpdate(Status.SUSPENDED, current_step, reason=reason, suspend_kind=kind)
    return Transition(execution_id, seq, now, (event,), update, park=True)


def _pending(execution_id: str, started: ExecutionStarted) -> NewExecution:
    tr = Transition(execution_id, 0, started.ts, (started,), ExecutionUpdate(Status.PENDING, None))
    return _new_execution(started, tr)


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
                # A step for a queue this process serves is leased to it already: it runs right
                # after the commit, with no claim round trip (DESIGN.md §5). Others wait for
                # any worker's claim.
                if cmd.queue in placement.local_queues:
                    owner, expires, attempt = placement.owner, now + placement.lease_ms, 1
                else:
                    owner, expires, attempt = None, None, 0
                task = Task(f"{eid}:{cmd.step_id}", eid, cmd.step_id, cmd.name, cmd.queue,
                            cmd.args, now, attempt, owner, expires)  # fmt: skip
                tasks.append(task)
                if owner is not None:
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
    )


def _update(
    basis: Basis, current: str | None, closing: ExecutionCompleted | ExecutionFailed | None
) -> ExecutionUpdate:
    if closing is None:  # the common case, first
        return _progress(current) if basis.sticky else ExecutionUpdate(Status.RUNNING, current)
    if isinstance(closing, ExecutionCompleted):
        return ExecutionUpdate(
            Status.COMPLETED, current, output=closing.result, closed_at=basis.now
        )
    return ExecutionUpdate(
        Status.FAILED,
        current,
        error_type=closing.error_type,
        error_message=closing.message,
        closed_at=basis.now,
    )


@lru_cache(maxsize=4096)
def _progress(current: str | None) -> ExecutionUpdate:
    """The update of a decision that changes only progress: immutable, so made once per step
    name."""
    return ExecutionUpdate(Status.RUNNING, current, progress_only=True)


def _retries(
    admitted: Admitted, now: int, placement: Placement
) -> tuple[tuple[TaskRetry, ...], tuple[Task, ...]]:
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


def _child_start(parent_id: str, cmd: StartChild, now: int) -> ChildStart:
    """The child's row and first event, PENDING for the orchestrator that owns it."""
    started = ExecutionStarted(
        now, cmd.workflow, cmd.input, cmd.version, parent_id=parent_id, parent_ref=cmd.command_id
    )
    return ChildStart(_pending(cmd.child_id, started), parent_id, cmd.command_id, cmd.wait)
