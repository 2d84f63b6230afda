"""Database rows to port records, the same for every dialect (the queries select the same
columns in the same order)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from legato.core.codec import dumps, loads
from legato.core.event_rows import from_row
from legato.core.events import Event, Status, StepRetryScheduled, SuspendKind
from legato.core.messages import InboxKind, InboxMessage, InboxRow
from legato.core.transition import Task
from legato.ports.executions import ExecutionFilter, ExecutionRow, WorkflowType, parse_cursor
from legato.ports.inspection import QueueStats, ReplicaSeen, RetryingStep, WorkerSeen


def execution_from_row(row: tuple[Any, ...]) -> ExecutionRow:
    return ExecutionRow(
        id=row[0],
        workflow=row[1],
        version=row[2],
        status=Status(row[3]),
        input=row[4],
        output=row[5],
        error_type=row[6],
        error_message=row[7],
        reason=row[8],
        suspend_kind=SuspendKind(row[9]) if row[9] else None,
        current_step=row[10],
        seq=row[11],
        created_at=row[12],
        updated_at=row[13],
        closed_at=row[14],
        labels=row[15] if len(row) > 15 else None,
        started_by=row[16] if len(row) > 16 else None,
    )


def task_from_row(row: tuple[Any, ...]) -> Task:
    """Columns: id, execution_id, step_id, name, queue, args, available_at, attempt,
    lease_owner, lease_expires_at, outcome, heartbeat_details."""
    return Task(*row)


def event_from_row(r: tuple[Any, ...]) -> Event:
    """Columns: type, ts, ref, name, payload, meta, seq, batch."""
    return from_row(r[0], r[1], r[2], r[3], r[4], loads(r[5]) if r[5] else {}, r[6], r[7])


def retrying_from_row(r: tuple[Any, ...]) -> RetryingStep:
    """Columns: execution_id, workflow, step_id, step name, available_at, then the history
    columns of the step's last ``StepRetryScheduled``."""
    event = event_from_row(r[5:])
    assert isinstance(event, StepRetryScheduled), event
    return RetryingStep(
        execution_id=r[0],
        workflow=r[1],
        step_id=r[2],
        step=r[3],
        attempt=event.attempt,
        error_type=event.error_type,
        message=event.message,
        failed_at=event.ts,
        next_attempt_at=r[4],
    )


def queue_stats_from_row(r: tuple[Any, ...]) -> QueueStats:
    """Columns: queue, ready, oldest ready available_at, running, scheduled (sums are NULL-free
    because the group has a row; PostgreSQL's come back as ``int`` or ``Decimal``)."""
    return QueueStats(str(r[0]), int(r[1]), None if r[2] is None else int(r[2]), int(r[3]),
                      int(r[4]))  # fmt: skip


def replica_from_row(r: tuple[Any, ...]) -> ReplicaSeen:
    """Columns: owner, last heartbeat (0: a lease holder with no heartbeat row), partitions."""
    return ReplicaSeen(str(r[0]), int(r[1]), int(r[2]))


def worker_from_row(r: tuple[Any, ...]) -> WorkerSeen:
    """Columns: id, queues and steps (JSON arrays), heartbeat_at, expires_at."""
    return WorkerSeen(str(r[0]), list(loads(r[1])), list(loads(r[2])), int(r[3]), int(r[4]))


def inbox_from_row(r: tuple[Any, ...]) -> InboxRow:
    """Columns: id, execution_id, kind, name, ref, payload, created_at."""
    return InboxRow(r[1], InboxKind(r[2]), r[3], r[4], r[5], r[6], id=r[0])


def inbox_params(m: InboxMessage) -> dict[str, Any]:
    return {"eid": m.execution_id, "kind": m.kind.value, "name": m.name, "ref": m.ref,
            "payload": m.payload, "now": m.created_at}  # fmt: skip


def to_stop(asked: list[str], renewed: Sequence[Sequence[Any]]) -> list[str]:
    """Of the leases a worker asked to renew, those whose step should stop: the task is gone
    (its execution closed, or another worker holds it) or its execution asked it to stop."""
    kept = {row[0] for row in renewed if not row[1]}
    return [task_id for task_id in asked if task_id not in kept]


#: rows of a status a labelled list looks at first (``list_executions_by_status_first``)
STATUS_FIRST_SCAN = 2_000


def list_query(
    status: Status | None,
    workflow: str | None,
    limit: int,
    filters: ExecutionFilter | None,
    cursor: str | None,
) -> list[tuple[str, dict[str, Any]]]:
    """The queries to ask in turn, each with its parameters, until one returns a full page
    (``limit`` rows) or the last has answered: ``list_executions_labelled`` (driven by the
    first label's index rows), ``_by_status``, ``_by_workflow`` (on those columns' indexes),
    or ``list_executions`` (newest first on ``executions_newest``).

    With labels and a status, the newest ``STATUS_FIRST_SCAN`` executions of the status are
    looked at first: a rare status with a common label (TIMED_OUT in region eu) would make the
    label-driven query read every execution of the label, and neither database knows which is
    rarer (SQLite keeps no statistics of values). A full page found among those rows is the
    page, as both orders are newest first; otherwise the label-driven query answers."""
    f = filters or ExecutionFilter()
    c_at, c_id = parse_cursor(cursor) if cursor else (None, None)
    labels = dict(f.labels or {})
    params: dict[str, Any] = {
        "status": status.value if status else None,
        "workflow": workflow,
        "version": f.version,
        "started_after": f.started_after,
        "started_before": f.started_before,
        "closed_after": f.closed_after,
        "closed_before": f.closed_before,
        "labels": dumps(labels, "labels") if labels else None,
        "c_at": c_at,
        "c_id": c_id,
        "limit": limit,
    }
    if not labels:  # the query whose index serves the filter given
        if status is not None:
            return [("list_executions_by_status", params)]
        if workflow is not None:
            return [("list_executions_by_workflow", params)]
        return [("list_executions", params)]
    key, value = next(iter(labels.items()))
    labelled = ("list_executions_labelled", {**params, "key": key, "value": value})
    if status is None:
        return [labelled]
    return [("list_executions_by_status_first", {**params, "scan": STATUS_FIRST_SCAN}), labelled]


def workflow_type_params(t: WorkflowType, now: int) -> dict[str, Any]:
    return {"name": t.name, "version": t.version, "kind": t.kind, "args_schema": t.args_schema,
            "code_hash": t.code_hash, "now": now}  # fmt: skip


def workflow_type_from_row(r: tuple[Any, ...]) -> WorkflowType:
    """Columns: name, version, kind, args_schema, code_hash, seen_at."""
    return WorkflowType(r[0], r[1], r[2], r[3], r[4], r[5])
