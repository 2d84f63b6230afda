"""Bringing an execution that is not in memory back from its history (after a crash, an
eviction, a partition taken over, or a start by a client).

The result is the replayed instance, ready for its next decision; or the transition that
suspends it (its workflow version is not registered here, or its code no longer matches its
history); or nothing, when there is nothing to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from legato.core import decide, redrive, trace_context
from legato.core.commands import Command
from legato.core.decide import Rebuild
from legato.core.events import (
    Event,
    ExecutionRedriven,
    ExecutionStarted,
    ExecutionSuspended,
    Status,
    SuspendKind,
)
from legato.core.transition import Transition
from legato.engine import log_events
from legato.engine.instance import WorkflowInstance
from legato.engine.registry import Registry
from legato.engine.stored_machines import StateMachines
from legato.errors import NonDeterminismError
from legato.ports.definitions import Definitions
from legato.ports.executions import ExecutionRow, Executions


@dataclass(frozen=True, slots=True)
class Loaded:
    instance: WorkflowInstance
    missing: tuple[Command, ...]  # commands the code issued that the history lacks
    resumed: bool  # it was SUSPENDED: the next decision records ExecutionResumed
    pending: bool = False  # its row is PENDING: the next decision makes it RUNNING
    arm_timeout: int | None = None  # PENDING (a start, a redrive): arm its timeout timer
    rebuild: Rebuild | None = None  # redriven: make its outstanding waits' rows again


class LoaderStore(Executions, Definitions, Protocol):
    pass


async def load(
    store: LoaderStore,
    registry: Registry,
    execution_id: str,
    now: int,
    wake: bool,
    machines: StateMachines | None = None,
) -> Loaded | Transition | None:
    """``wake``: asked to decide it (a start, a resume), not only to take an input. A workflow
    the registry lacks is looked for among the stored state machine definitions
    (``machines``), read only then."""
    row = await store.load_execution(execution_id)
    if row is None:
        return None
    if row.status not in (Status.RUNNING, Status.PENDING) and not (
        wake and row.status == Status.SUSPENDED
    ):
        return None
    wf = registry.lookup_workflow(row.workflow, row.version)
    if wf is None and machines is not None:
        wf = await machines.lookup(store, row.workflow, row.version)
    if wf is None:
        if row.status == Status.SUSPENDED:
            return None
        reason = (
            f"workflow {row.workflow!r} version {row.version!r} is not registered in the "
            "running app"
        )
        return _suspension(row, now, SuspendKind.UNREGISTERED, reason)
    history = await store.load_history(execution_id)
    last = history[-1] if history else None
    if row.status == Status.SUSPENDED and not retries_suspension(row, last, wf.code_hash):
        return None  # the same code would diverge the same way: it waits for an operator
    inst = WorkflowInstance(wf, registry, execution_id)
    try:
        missing = inst.replay(history)
    except NonDeterminismError as exc:
        inst.close()
        first = history[0] if history else None
        started_in = first.traceparent if isinstance(first, ExecutionStarted) else None
        return _suspension(
            row, now, SuspendKind.NON_DETERMINISM, str(exc), wf.code_hash, started_in
        )
    inst.seen_up_to(row.seq)
    resumed = row.status == Status.SUSPENDED or isinstance(last, ExecutionSuspended)
    if row.status != Status.PENDING:
        return Loaded(inst, missing, resumed)
    return Loaded(inst, missing, resumed, True, _deadline(last, inst), _rebuild(history, inst))


def retries_suspension(row: ExecutionRow, last: Event | None, code_hash: str) -> bool:
    """A SUSPENDED execution is tried again by itself when its workflow is registered now (it
    was not) or its code changed since it diverged; an operator's ``resume`` makes it
    PENDING, which is always tried."""
    if row.suspend_kind == SuspendKind.UNREGISTERED:
        return True
    return isinstance(last, ExecutionSuspended) and last.code not in (None, code_hash)


def _deadline(last: Event | None, inst: WorkflowInstance) -> int | None:
    """When a PENDING execution's timeout comes due: from its start, or from its redrive (a
    resumed one still has its timer)."""
    if inst.timeout_ms is None or not isinstance(last, ExecutionStarted | ExecutionRedriven):
        return None
    return last.ts + inst.timeout_ms


def _rebuild(history: list[Event], inst: WorkflowInstance) -> Rebuild | None:
    """A redriven execution (its history ends with the redrive): the rows of what it still
    waits for, which its close deleted."""
    if not history or not isinstance(history[-1], ExecutionRedriven):
        return None
    steps, timers = redrive.outstanding(redrive.live_history(history), inst.waits.waits_for)
    return Rebuild(steps, timers)


def _suspension(
    row: ExecutionRow,
    now: int,
    kind: SuspendKind,
    reason: str,
    code: str | None = None,
    started_in: str | None = None,
) -> Transition:
    """It waits for an operator: said at WARNING whatever the level of execution lines."""
    own = trace_context.own_traceparent(row.id, started_in)
    log_events.ExecutionLog(row.id, row.workflow, row.version, own).emit(
        log_events.WARNING, "execution.suspended", f"suspending execution {row.id}: {reason}",
        row.current_step, reason=reason, kind=str(kind),
    )  # fmt: skip
    return decide.suspend(row.id, row.seq, row.current_step, now, kind, reason, code)
