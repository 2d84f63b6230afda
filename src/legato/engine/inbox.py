"""Inbox rows (signals, child outcomes, task-token calls) and the external tasks' timers,
turned into the history events of a decision.

Each consumed row is deleted by the transition that records it (a guarded delete: consumed
once). A signal is recorded at once whether or not the code waits for it: the history is the
buffer, so a replay hands the code the same signals in the same order. A message for something
already settled (a second completion, a late child outcome) is deleted without an event.
"""

from __future__ import annotations

from legato.core import codec
from legato.core.events import JSON, Event, EventType
from legato.engine.instance import WorkflowInstance
from legato.engine.transitions import Gathered
from legato.engine.waits import HEARTBEAT_TIMEOUT, TIMEOUT
from legato.ports.store import InboxRow, Transition

SIGNAL = "signal"
CHILD = "child"
TASK_SUCCESS = "task_success"
TASK_FAILURE = "task_failure"
TASK_HEARTBEAT = "task_heartbeat"


def consume(inst: WorkflowInstance, row: InboxRow, now: int, got: Gathered) -> None:
    if row.id in inst.consumed_inbox:  # recorded already: a poll raced with that commit
        return
    inst.consumed_inbox.add(row.id)
    got.inbox_deletes.append(row.id)
    meta: dict[str, JSON] = {"inbox": row.id}
    if row.kind == SIGNAL:
        got.inputs.append(
            Event(EventType.SIGNAL_RECEIVED, ts=now, name=row.name, payload=row.payload, meta=meta)
        )
        return
    ref = row.ref
    if ref is None or ref in got.settled:
        return
    if row.kind == CHILD:
        if ref in inst.children:
            got.settled.add(ref)
            got.inputs.append(_child_event(row, ref, now, meta))
        return
    wait = inst.external.get(ref)
    if wait is None:
        return
    if row.kind == TASK_HEARTBEAT:
        timer, hb_ms = wait.heartbeat_timer, wait.heartbeat_ms
        if timer is not None and hb_ms is not None:
            meta["deadline"] = now + hb_ms
            if all(t != timer for t, _ in got.timer_inserts):  # re-armed once per decision
                got.timer_deletes.append(timer)
                got.timer_inserts.append((timer, now + hb_ms))
        got.inputs.append(Event(EventType.EXTERNAL_TASK_HEARTBEAT, ts=now, ref=ref, meta=meta))
        return
    got.settled.add(ref)
    if row.kind == TASK_SUCCESS:
        completed = EventType.EXTERNAL_TASK_COMPLETED
        got.inputs.append(Event(completed, ts=now, ref=ref, payload=row.payload, meta=meta))
        return
    failure = codec.loads(row.payload) or {}
    meta["error_type"] = str(failure.get("error") or "States.TaskFailed")
    meta["message"] = str(failure.get("cause") or "")
    got.inputs.append(Event(EventType.EXTERNAL_TASK_FAILED, ts=now, ref=ref, meta=meta))


def _child_event(row: InboxRow, ref: int, now: int, meta: dict[str, JSON]) -> Event:
    if row.name == "started":
        meta["started_at"] = int(row.payload or now)
        return Event(EventType.CHILD_STARTED, ts=now, ref=ref, meta=meta)
    if row.name == "completed":
        return Event(EventType.CHILD_COMPLETED, ts=now, ref=ref, payload=row.payload, meta=meta)
    detail = codec.loads(row.payload) or {}
    if row.name == "conflict":
        meta["error_type"] = "ExecutionAlreadyExists"
        meta["message"] = (
            f"an execution with this id already exists (workflow {detail.get('workflow')!r}) "
            "with a different input, or as the child of another execution"
        )
    else:
        meta["error_type"] = str(detail.get("error_type"))
        meta["message"] = str(detail.get("message", ""))
    return Event(EventType.CHILD_FAILED, ts=now, ref=ref, meta=meta)


def timer_fired(inst: WorkflowInstance, timer_id: int, now: int, got: Gathered) -> bool:
    """An external task's timeout or heartbeat timer came due: fail the wait. True if the
    timer is one of theirs (handled or, moved on by a heartbeat, ignored)."""
    found = next(((r, w) for r, w in inst.external.items() if timer_id in w.timers()), None)
    if found is None:
        return False
    ref, wait = found
    if ref in got.settled or any(t == timer_id for t, _ in got.timer_inserts):
        return True
    if timer_id == wait.heartbeat_timer:
        if wait.heartbeat_deadline is not None and now < wait.heartbeat_deadline:
            return True  # an earlier due time; a heartbeat moved it on
        error, message = HEARTBEAT_TIMEOUT, "no heartbeat within the heartbeat timeout"
    else:
        error, message = TIMEOUT, "the external task did not complete within its timeout"
    got.settled.add(ref)
    got.timer_deletes.append(timer_id)
    meta: dict[str, JSON] = {"error_type": error, "message": message, "timer": timer_id}
    got.inputs.append(Event(EventType.EXTERNAL_TASK_FAILED, ts=now, ref=ref, meta=meta))
    return True


def apply(tr: Transition, got: Gathered, cancelled: list[int]) -> None:
    """Add the decision's inbox deletes and timer changes; a timer the code cancelled is
    deleted once (and not re-armed)."""
    tr.inbox_deletes += got.inbox_deletes
    inserts = list(got.timer_inserts)
    for timer_id in cancelled:
        rearmed = [t for t in inserts if t[0] == timer_id]
        if rearmed:  # re-armed then settled in this decision: its old row goes, no new one
            inserts = [t for t in inserts if t[0] != timer_id]
        elif timer_id not in tr.timer_deletes:
            tr.timer_deletes.append(timer_id)
    tr.timer_inserts += inserts
