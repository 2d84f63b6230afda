"""A batch of transitions as statement parameters, the same for every SQL dialect.

Each store runs these with its own SQL (same query names) and one ``executemany`` per
statement. Guards are the statements whose summed row count must equal the number of rows: the
execution's sequence number, and the tasks and timers a transition consumes. If one falls
short, some transition is stale and the store rolls the batch back.
"""

from __future__ import annotations

from typing import Any

from legato.core import error_names
from legato.core.codec import dumps, loads
from legato.core.event_rows import columns, to_row
from legato.core.events import Event, EventType, Status
from legato.core.messages import ChildNotice, InboxKind, ParentClosePolicy
from legato.core.transition import ChildStart, NewExecution, Transition

Rows = list[Any]  # tuples, or dicts for named parameters


def guard_rows(trs: list[Transition]) -> list[tuple[str, Rows]]:
    updates: Rows = []
    progress: Rows = []
    deletes: Rows = []
    retries: Rows = []
    timer_deletes: Rows = []
    inbox_deletes: Rows = []
    for tr in trs:
        u = tr.update
        new_seq = tr.expected_seq + len(tr.events)
        if u.progress_only:  # the common step: no status change, so no index to maintain
            progress.append((new_seq, u.current_step, tr.now, tr.execution_id, tr.expected_seq))
        else:
            suspend_kind = u.suspend_kind.value if u.suspend_kind else None
            updates.append(
                (new_seq, u.status.value, u.current_step, u.output, u.error_type,
                 u.error_message, u.reason, suspend_kind, tr.now, u.closed_at,
                 tr.execution_id, tr.expected_seq)
            )  # fmt: skip
        deletes += tr.task_deletes
        retries += [
            (r.lease_owner, r.available_at, r.lease_owner, r.lease_expires_at, r.task_id, r.attempt)
            for r in tr.task_retries
        ]
        timer_deletes += [(tr.execution_id, t) for t in tr.timer_deletes]
        inbox_deletes += [(i,) for i in tr.inbox_deletes]
    return [
        ("update_execution", updates),
        ("update_progress", progress),
        ("delete_task", deletes),
        ("retry_task", retries),
        ("delete_timer", timer_deletes),
        ("delete_inbox", inbox_deletes),
    ]


def sweep_statements(tr: Transition) -> list[tuple[str, dict[str, Any]]]:
    """Whole-execution task changes: rare, so one statement each, never batched."""
    if not (tr.purge or tr.park or tr.unpark or tr.closes or tr.cancel_tasks):
        return []
    eid = {"eid": tr.execution_id}
    out: list[tuple[str, dict[str, Any]]] = []
    if tr.cancel_tasks:
        out.append(("request_task_cancel", {"ids": list(tr.cancel_tasks)}))
    if tr.purge:  # closed with steps or timers outstanding: leave no work behind
        out += [("delete_execution_tasks", eid), ("delete_execution_timers", eid)]
    if tr.park:
        out.append(("park_tasks", eid))
    if tr.unpark:
        out.append(("unpark_tasks", eid))
    if tr.closes:  # tell an awaiting parent; drop unread messages
        notice, payload = closing_notice(tr)
        params = {**eid, "kind": _CHILD_KIND, "name": notice.value, "payload": payload,
                  "now": tr.now}  # fmt: skip
        out.append(("notify_parent", params))
        out.append(("delete_execution_inbox", eid))
        if tr.cascades:
            reason = dumps(
                f"its parent {tr.execution_id} closed {tr.update.status.value}", "reason"
            )
            out.append(
                ("cascade_to_children", {**eid, **_CASCADE, "reason": reason, "now": tr.now})
            )
    return out


#: What ``cascade_to_children`` sends, by the child's ParentClosePolicy.
_CASCADE = {
    "terminate_policy": ParentClosePolicy.TERMINATE.value,
    "abandon": ParentClosePolicy.ABANDON.value,
    "terminate": InboxKind.TERMINATE.value,
    "cancel": InboxKind.CANCEL.value,
}


def closing_notice(tr: Transition) -> tuple[ChildNotice, str | None]:
    """What a closing execution tells its parent: ``completed`` with its output, or its status
    with ``{"error_type", "message"}``."""
    u = tr.update
    if u.status == Status.COMPLETED:
        return ChildNotice.COMPLETED, u.output
    error = {"error_type": u.error_type or error_names.for_status(u.status.value),
             "message": u.error_message or ""}  # fmt: skip
    return ChildNotice.closed_as(u.status), dumps(error, "child outcome")


def insert_rows(trs: list[Transition]) -> list[tuple[str, Rows]]:
    events = [
        _event_row(tr.execution_id, tr.expected_seq, e, i)
        for tr in trs
        for i, e in enumerate(tr.events)
    ]
    # insert_task's columns are a Task's first ten fields (id ... lease_expires_at), then now;
    # a task with a start deadline or a trace context (rare: its transition says so, or its
    # first task's traceparent: an execution's tasks share it) has those too, in a statement
    # of its own
    tasks = [
        (*t[:10], tr.now)
        for tr in trs
        if tr.start_deadline is None and not (tr.task_inserts and tr.task_inserts[0].traceparent)
        for t in tr.task_inserts
    ]
    deadlines: Rows = []
    for tr in trs:
        if tr.start_deadline is not None or (tr.task_inserts and tr.task_inserts[0].traceparent):
            for t in tr.task_inserts:
                if t.start_by is None and t.traceparent is None:
                    tasks.append((*t[:10], tr.now))
                else:
                    deadlines.append((*t[:10], tr.now, t.start_by, t.traceparent))
    timers = [(tr.execution_id, tid, at) for tr in trs for tid, at in tr.timer_inserts]
    children = [_child_params(tr, c) for tr in trs for c in tr.child_starts]
    return [
        ("insert_event", events),
        ("insert_task", tasks),
        ("insert_task_with_deadline", deadlines),
        ("insert_timer", timers),
        ("insert_child_execution", children),
        ("insert_child_event", children),
        ("adopt_child", children),
        ("link_child", children),
    ]


_CHILD_KIND = InboxKind.CHILD.value
#: What the child statements say to a parent, as SQL parameters (see ``link_child``).
_CHILD_VOCABULARY = {
    "kind": InboxKind.CHILD.value,
    "started": ChildNotice.STARTED.value,
    "completed": ChildNotice.COMPLETED.value,
    "conflict": ChildNotice.CONFLICT.value,
    "error_prefix": error_names.PREFIX,
    "event_type": EventType.EXECUTION_STARTED.value,
}


def _child_params(tr: Transition, c: ChildStart) -> dict[str, Any]:
    new = c.new
    started = to_row(new.transition.events[0])
    return {
        **_CHILD_VOCABULARY,
        "child": new.id,
        "workflow": new.workflow,
        "version": new.version,
        "input": new.input,
        "now": tr.now,
        "partition": new.partition,
        "parent": c.parent_id,
        "ref": c.command_id,
        "wait": c.wait,
        "close_policy": c.close_policy,
        "meta": dumps(started.meta, "event meta"),
    }


def execution_insert_row(new: NewExecution) -> tuple[Any, ...]:
    tr = new.transition
    u = tr.update
    return (
        tr.execution_id, new.workflow, new.version, u.status.value, new.input, u.output,
        u.error_type, u.error_message, u.current_step, len(tr.events), tr.now, tr.now,
        u.closed_at, new.partition, new.labels, new.started_by,
    )  # fmt: skip


def label_rows(starts: list[NewExecution]) -> Rows:
    """``insert_label`` rows of the executions started with labels (none for the others: an
    execution without labels writes nothing more than before)."""
    return [
        (key, value, new.transition.now, new.id)
        for new in starts
        if new.labels
        for key, value in loads(new.labels).items()
    ]


def _event_row(execution_id: str, base: int, e: Event, i: int) -> tuple[Any, ...]:
    kind, ts, ref, name, payload, meta = columns(e)
    text = dumps(meta, "event meta") if meta else None
    return (execution_id, base + i + 1, base + 1, kind, ts, ref, name, payload, text)
