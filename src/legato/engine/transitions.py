"""Turning what happened (step outcomes) and what the code asked for (commands) into one
``Transition``: the events to append and the tasks, retries and timers they cause."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import assert_never

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
from legato.core.events import JSON, Event, EventType, Status
from legato.core.partitions import partition_of
from legato.engine.instance import WorkflowInstance
from legato.engine.outcome import Outcome
from legato.engine.registry import Registry
from legato.ports.store import (
    ChildStart,
    ExecutionUpdate,
    NewExecution,
    NewTask,
    TaskRetry,
    TaskRow,
    Transition,
)


@dataclass
class Gathered:
    """What one decision's inputs amount to, before the workflow code runs."""

    events: list[Event] = field(default_factory=list)  # recorded as they are (retries)
    inputs: list[Event] = field(default_factory=list)  # fed to the workflow code
    retries: list[tuple[TaskRetry, TaskRow]] = field(default_factory=list)
    task_deletes: list[tuple[str, int]] = field(default_factory=list)
    timer_deletes: list[int] = field(default_factory=list)
    timer_inserts: list[tuple[int, int]] = field(default_factory=list)
    inbox_deletes: list[int] = field(default_factory=list)
    settled: set[int] = field(default_factory=set)  # commands resolved by this decision


class TransitionBuilder:
    def __init__(
        self, registry: Registry, owner: str, lease_ms: int, local_queues: frozenset[str]
    ) -> None:
        self.registry = registry
        self.owner = owner
        self.lease_ms = lease_ms
        self.local_queues = local_queues

    def step_outcome(
        self, inst: WorkflowInstance, task: TaskRow, outcome: Outcome, now: int, into: Gathered
    ) -> None:
        """A completion feeds the code; a failure is retried (per the step's policy) or, once
        retries are exhausted or the error is non-retryable, fed to the code as a failure."""
        if task.step_id not in inst.waiting:
            return  # a duplicate or late result: already decided
        meta: dict[str, JSON] = {"attempt": task.attempt}
        if outcome.ok:
            into.task_deletes.append((task.id, task.attempt))
            into.inputs.append(
                Event(
                    EventType.STEP_COMPLETED,
                    ts=now,
                    ref=task.step_id,
                    name=task.name,
                    payload=outcome.result,
                    meta=meta,
                )
            )
            return
        step = self.registry.steps.get(task.name)
        error: dict[str, JSON] = {"error_type": outcome.error_type, "message": outcome.message}
        policy = inst.retry_for.get(task.step_id) or (step.retry if step is not None else None)
        if (
            policy is not None
            and not outcome.non_retryable
            and policy.should_retry(task.attempt, outcome.error_types)
        ):
            delay_ms = round(policy.delay(task.attempt, random.random()) * 1000)
            local = task.queue in self.local_queues
            owner = self.owner if local else None
            retry = TaskRetry(
                task.id,
                task.attempt,
                now + delay_ms,
                owner,
                now + delay_ms + self.lease_ms if local else None,
            )
            again = TaskRow(
                task.id,
                task.execution_id,
                task.step_id,
                task.name,
                task.queue,
                task.args,
                now + delay_ms,
                task.attempt + 1,
                owner,
                None,
                outcome.heartbeat_details or task.heartbeat_details,
            )
            into.retries.append((retry, again))
            into.events.append(
                Event(
                    EventType.STEP_RETRY_SCHEDULED,
                    ts=now,
                    ref=task.step_id,
                    name=task.name,
                    meta={**meta, **error, "delay_ms": delay_ms},
                )
            )
            return
        into.task_deletes.append((task.id, task.attempt))
        into.inputs.append(
            Event(
                EventType.STEP_FAILED,
                ts=now,
                ref=task.step_id,
                name=task.name,
                meta={**meta, **error, "traceback": outcome.traceback},
            )
        )

    def build(
        self,
        inst: WorkflowInstance,
        now: int,
        events: list[Event],
        commands: list[Command],
        status: Status,
    ) -> Transition:
        update = ExecutionUpdate(status=status, current_step=None)
        tr = Transition(inst.execution_id, inst.seq, now, events, update)
        eid = inst.execution_id
        for cmd in commands:
            match cmd:
                case ScheduleStep():
                    step = self.registry.steps[cmd.name]
                    local = step.queue in self.local_queues
                    events.append(
                        Event(
                            EventType.STEP_SCHEDULED,
                            ts=now,
                            ref=cmd.step_id,
                            name=cmd.name,
                            payload=cmd.args,
                            meta={"queue": step.queue},
                        )
                    )
                    # A step for a queue this process serves is leased to it already: it runs
                    # right after the commit, with no claim round trip (DESIGN.md §5).
                    tr.task_inserts.append(
                        NewTask(
                            f"{eid}:{cmd.step_id}",
                            eid,
                            cmd.step_id,
                            cmd.name,
                            step.queue,
                            cmd.args,
                            now,
                            1 if local else 0,
                            self.owner if local else None,
                            now + self.lease_ms if local else None,
                        )
                    )
                    update.current_step = cmd.name
                case RecordState():
                    kind = EventType.STATE_EXITED if cmd.exited else EventType.STATE_ENTERED
                    events.append(
                        Event(kind, ts=now, ref=cmd.record_id, name=cmd.state, payload=cmd.data)
                    )
                    if not cmd.exited:
                        update.current_step = cmd.state
                case StartTimer():
                    events.append(
                        Event(
                            EventType.TIMER_STARTED,
                            ts=now,
                            ref=cmd.timer_id,
                            name=cmd.name,
                            meta={"fire_at": cmd.fire_at},
                        )
                    )
                    tr.timer_inserts.append((cmd.timer_id, cmd.fire_at))
                    update.current_step = cmd.name
                case StartChild():
                    events.append(
                        Event(
                            EventType.CHILD_SCHEDULED,
                            ts=now,
                            ref=cmd.command_id,
                            name=cmd.workflow,
                            payload=cmd.input,
                            meta={"child_id": cmd.child_id, "wait": cmd.wait},
                        )
                    )
                    tr.child_starts.append(_child_start(eid, cmd, now))
                    update.current_step = cmd.workflow
                case StartExternalTask():
                    meta: dict[str, JSON] = {"token": cmd.token}
                    for key, timer in (
                        ("timeout", cmd.timeout_timer),
                        ("heartbeat", cmd.heartbeat_timer),
                    ):
                        if timer is not None:
                            meta[f"{key}_timer"], meta[f"{key}_at"] = timer
                            tr.timer_inserts.append(timer)
                    events.append(
                        Event(
                            EventType.EXTERNAL_TASK_STARTED,
                            ts=now,
                            ref=cmd.command_id,
                            name="external task",
                            meta=meta,
                        )
                    )
                    update.current_step = "external task"
                case CompleteExecution():
                    events.append(Event(EventType.EXECUTION_COMPLETED, ts=now, payload=cmd.result))
                    update.status, update.output, update.closed_at = (
                        Status.COMPLETED,
                        cmd.result,
                        now,
                    )
                    tr.purge = bool(inst.waiting)
                case FailExecution():
                    events.append(
                        Event(
                            EventType.EXECUTION_FAILED,
                            ts=now,
                            meta={
                                "error_type": cmd.error_type,
                                "message": cmd.message,
                                "traceback": cmd.traceback,
                            },
                        )
                    )
                    update.status, update.closed_at = Status.FAILED, now
                    update.error_type, update.error_message = cmd.error_type, cmd.message
                    tr.purge = bool(inst.waiting)
                case _:
                    assert_never(cmd)
        return tr


def _child_start(parent_id: str, cmd: StartChild, now: int) -> ChildStart:
    """The child's row and first event, PENDING for the orchestrator that owns it."""
    started = Event(
        EventType.EXECUTION_STARTED,
        ts=now,
        name=cmd.workflow,
        payload=cmd.input,
        meta={"version": cmd.version, "parent_id": parent_id, "parent_ref": cmd.command_id},
    )
    tr = Transition(cmd.child_id, 0, now, [started], ExecutionUpdate(Status.PENDING, None))
    new = NewExecution(
        cmd.child_id, cmd.workflow, cmd.version, cmd.input, now, tr, partition_of(cmd.child_id)
    )
    return ChildStart(new, parent_id, cmd.command_id, cmd.wait)
