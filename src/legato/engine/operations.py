"""What an operator does to an execution, from any process that can reach its database.

- ``cancel`` asks: a ``cancel`` message the owning orchestrator records as ``CancelRequested``;
  the code sees ``legato.Cancelled`` at its next await and may clean up first.
- ``terminate`` closes it at once, here: no code runs, its running steps' results are dropped
  (their task rows go) and its workers are told to stop.
- ``redrive`` reopens a FAILED, TIMED_OUT or CANCELLED execution where it failed
  (``legato.core.redrive``); ``resume`` retries a SUSPENDED one with the code now running. Both
  leave it PENDING for whichever engine serves its partition to replay.

The direct writes are ordinary transitions, guarded by the execution's sequence number: one
that raced with the owning orchestrator's commit is made again from the new state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from legato.core import codec, decide, redrive
from legato.core.events import CLOSED_STATUSES, ExecutionRedriven, Status
from legato.core.messages import InboxKind, InboxMessage
from legato.core.transition import ExecutionUpdate, Transition
from legato.errors import ExecutionClosed, ExecutionNotFound, ExecutionStateError, StoreError
from legato.ports.executions import ExecutionRow, Executions, StaleTransition
from legato.ports.inbox import Inbox

RACES = 20  # attempts against an orchestrator committing at the same time


async def cancel(
    store: Inbox, executions: Executions, eid: str, reason: str | None, now: int
) -> None:
    payload = codec.dumps(reason, "cancellation reason")
    if not await store.send(InboxMessage(eid, InboxKind.CANCEL, None, None, payload, now)):
        row = await _row(executions, eid)
        raise ExecutionClosed(eid, row.status.value)


async def terminate(store: Executions, eid: str, reason: str | None, now: int) -> ExecutionUpdate:
    async def build(row: ExecutionRow) -> Transition:
        if row.status in CLOSED_STATUSES:
            raise ExecutionClosed(eid, row.status.value)
        return decide.terminate(row.id, row.seq, row.current_step, now, reason)

    return await _apply(store, eid, build)


async def redrive_execution(store: Executions, eid: str, now: int) -> ExecutionUpdate:
    async def build(row: ExecutionRow) -> Transition:
        history = await store.load_history(eid)
        try:
            void_from = redrive.void_point(history, row.status)
        except redrive.NotRedrivable as exc:
            why = f"cannot be redriven: {exc}"
            raise ExecutionStateError(eid, row.status.value, why) from None
        count = redrive.redrive_count(history) + 1
        return decide.redrive(row.id, row.seq, row.current_step, now, void_from, count)

    return await _apply(store, eid, build)


async def redriven_at(store: Executions, eid: str, now: int) -> bool:
    """Whether a redrive made at ``now`` was recorded (a retry asks after a lost answer)."""
    history = await store.load_history(eid)
    return any(isinstance(e, ExecutionRedriven) and e.ts == now for e in history)


async def resume(store: Executions, eid: str, now: int) -> ExecutionUpdate:
    async def build(row: ExecutionRow) -> Transition:
        if row.status != Status.SUSPENDED:
            raise ExecutionStateError(eid, row.status.value, "is not SUSPENDED: nothing to resume")
        return decide.resume(row.id, row.seq, row.current_step, now)

    return await _apply(store, eid, build)


async def _apply(
    store: Executions, eid: str, build: Callable[[ExecutionRow], Awaitable[Transition]]
) -> ExecutionUpdate:
    """Build from the execution as it is now and commit; again if it moved on meanwhile."""
    for _ in range(RACES):
        tr = await build(await _row(store, eid))
        try:
            await store.submit(tr)
            return tr.update
        except StaleTransition:
            continue
    raise StoreError(f"execution {eid!r} kept changing; try again")


async def _row(store: Executions, eid: str) -> ExecutionRow:
    row = await store.load_execution(eid)
    if row is None:
        raise ExecutionNotFound(eid)
    return row
