"""Bringing an execution that is not in memory back from its history (after a crash, an
eviction, a partition taken over, or a start by a client).

The result is the replayed instance, ready for its next decision; or the transition that
suspends it (its workflow version is not registered here, or its code no longer matches its
history); or nothing, when there is nothing to decide.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from legato.core import decide
from legato.core.commands import Command
from legato.core.events import Status, SuspendKind
from legato.core.transition import Transition
from legato.engine.instance import WorkflowInstance
from legato.engine.registry import Registry
from legato.errors import NonDeterminismError
from legato.ports.executions import ExecutionRow, Executions

log = logging.getLogger("legato.orchestrator")


@dataclass(frozen=True, slots=True)
class Loaded:
    instance: WorkflowInstance
    missing: tuple[Command, ...]  # commands the code issued that the history lacks
    resumed: bool  # it was SUSPENDED: the next decision records ExecutionResumed
    pending: bool = False  # it was PENDING: the next decision marks it RUNNING


async def load(
    store: Executions, registry: Registry, execution_id: str, now: int, wake: bool
) -> Loaded | Transition | None:
    """``wake``: asked to decide it (a start, a resume), not only to take an input."""
    row = await store.load_execution(execution_id)
    if row is None:
        return None
    resuming = row.status == Status.SUSPENDED and row.suspend_kind == SuspendKind.UNREGISTERED
    if row.status not in (Status.RUNNING, Status.PENDING) and not (resuming and wake):
        return None
    wf = registry.lookup_workflow(row.workflow, row.version)
    if wf is None:
        if row.status == Status.SUSPENDED:
            return None
        reason = (
            f"workflow {row.workflow!r} version {row.version!r} is not registered in the "
            "running app"
        )
        return _suspension(row, now, SuspendKind.UNREGISTERED, reason)
    inst = WorkflowInstance(wf, registry, execution_id)
    history = await store.load_history(execution_id)
    try:
        missing = inst.replay(history)
    except NonDeterminismError as exc:
        inst.close()
        return _suspension(row, now, SuspendKind.NON_DETERMINISM, str(exc))
    inst.seen_up_to(row.seq)
    return Loaded(inst, missing, row.status == Status.SUSPENDED, row.status == Status.PENDING)


def _suspension(row: ExecutionRow, now: int, kind: SuspendKind, reason: str) -> Transition:
    log.warning("suspending execution %s: %s", row.id, reason)
    return decide.suspend(row.id, row.seq, row.current_step, now, kind, reason)
