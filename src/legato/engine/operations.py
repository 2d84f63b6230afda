"""What an operator does to an execution directly, from any process that can reach its
database (a cancellation is a message: ``legato.engine.messages.cancel``).

- ``terminate`` closes it at once, here: no code runs, its running steps' results are dropped
  (their task rows go) and its workers are told to stop.
- ``redrive`` reopens a FAILED, TIMED_OUT or CANCELLED execution where it failed
  (``legato.core.redrive``); ``resume`` retries a SUSPENDED one with the code now running. Both
  leave it PENDING for whichever engine serves its partition to replay.

Each is an ordinary transition, guarded by the execution's sequence number: one that raced
with the owning orchestrator's commit is made again from the new state. ``repeat``: the caller
tries again after losing the answer of an earlier attempt, whose work, if found, is this one's
(the operation returns None instead of refusing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from legato.core import decide, redrive, trace_context
from legato.core.events import CLOSED_STATUSES, Event, ExecutionRedriven, ExecutionStarted, Status
from legato.core.transition import ExecutionUpdate, Transition
from legato.engine import log_events, metrics, tracing
from legato.errors import ExecutionClosed, ExecutionNotFound, ExecutionStateError, StoreError
from legato.ports.executions import ExecutionRow, Executions, StaleTransition

RACES = 20  # attempts against an orchestrator committing at the same time


async def terminate(
    store: Executions, eid: str, reason: str | None, now: int, repeat: bool = False
) -> ExecutionUpdate | None:
    async def build(row: ExecutionRow) -> Transition | None:
        if row.status == Status.TERMINATED and repeat:
            return None
        if row.status in CLOSED_STATUSES:
            raise ExecutionClosed(eid, row.status.value)
        return decide.terminate(row.id, row.seq, row.current_step, now, reason)

    return await _apply(store, eid, build)


async def redrive_execution(
    store: Executions, eid: str, now: int, repeat: bool = False
) -> ExecutionUpdate | None:
    async def build(row: ExecutionRow) -> Transition | None:
        history = await store.load_history(eid)
        if repeat and _redriven_at(history, now):
            return None
        try:
            void_from = redrive.void_point(history, row.status)
        except redrive.NotRedrivable as exc:
            why = f"cannot be redriven: {exc}"
            raise ExecutionStateError(eid, row.status.value, why) from None
        count = redrive.redrive_count(history) + 1
        return decide.redrive(row.id, row.seq, row.current_step, now, void_from, count)

    return await _apply(store, eid, build)


async def resume(
    store: Executions, eid: str, now: int, repeat: bool = False
) -> ExecutionUpdate | None:
    async def build(row: ExecutionRow) -> Transition | None:
        if row.status == Status.PENDING and repeat:
            return None
        if row.status != Status.SUSPENDED:
            raise ExecutionStateError(eid, row.status.value, "is not SUSPENDED: nothing to resume")
        return decide.resume(row.id, row.seq, row.current_step, now)

    return await _apply(store, eid, build)


def _redriven_at(history: list[Event], now: int) -> bool:
    return any(isinstance(e, ExecutionRedriven) and e.ts == now for e in history)


async def _apply(
    store: Executions, eid: str, build: Callable[[ExecutionRow], Awaitable[Transition | None]]
) -> ExecutionUpdate | None:
    """Build from the execution as it is now and commit; again if it moved on meanwhile.
    None: an earlier attempt of the caller's did it already."""
    for _ in range(RACES):
        row = await store.load_execution(eid)
        if row is None:
            raise ExecutionNotFound(eid)
        tr = await build(row)
        if tr is None:
            return None
        try:
            await store.submit(tr)
        except StaleTransition:
            continue
        if tr.closes:  # terminated: no orchestrator decided it, so it is counted here
            metrics.execution_closed(row.workflow, row.version, tr.update.status)
        await _report(store, row, tr)
        return tr.update
    raise StoreError(f"execution {eid!r} kept changing; try again")


async def _report(store: Executions, row: ExecutionRow, tr: Transition) -> None:
    """Log what an operator did (the engine that owns the execution did not decide it) and,
    for a termination, emit the execution's span. Rare, so the history is read for the
    trace the execution was started in, only when there is a line or a span to write."""
    logs = log_events.EXECUTIONS.isEnabledFor(log_events.INFO)
    span = tr.closes and tracing.tracer() is not None
    if not (logs or span):
        return
    try:
        history = await store.load_history(row.id)
    except StoreError:
        history = []
    first = history[0] if history else None
    started_in = first.traceparent if isinstance(first, ExecutionStarted) else None
    own = trace_context.own_traceparent(row.id, started_in)
    if logs:
        log_events.committed(tr, row.workflow, row.version, own)
    if span:
        u = tr.update
        tracing.execution_closed(
            row.id, row.workflow, row.version, started_in, row.created_at,
            u.closed_at or tr.now, u.status, u.reason,
        )  # fmt: skip
