"""Database rows to port records, the same for every dialect (the queries select the same
columns in the same order)."""

from __future__ import annotations

from typing import Any

from legato.core.codec import loads
from legato.core.events import Event, EventType, Status, SuspendKind
from legato.ports.store import ExecutionRow, InboxMessage, InboxRow, TaskRow

EXECUTION_COLUMNS = (
    "id, workflow, version, status, input, output, error_type, error_message, reason, "
    "suspend_kind, current_step, seq, created_at, updated_at, closed_at"
)


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
    )


def task_from_row(row: tuple[Any, ...]) -> TaskRow:
    return TaskRow(*row)


def event_from_row(r: tuple[Any, ...]) -> Event:
    """Columns: type, ts, ref, name, payload, meta, seq, batch."""
    return Event(
        type=EventType(r[0]),
        ts=r[1],
        ref=r[2],
        name=r[3],
        payload=r[4],
        meta=loads(r[5]) if r[5] else {},
        seq=r[6],
        batch=r[7],
    )


def inbox_from_row(r: tuple[Any, ...]) -> InboxRow:
    """Columns: id, execution_id, kind, name, ref, payload, created_at."""
    return InboxRow(*r)


def inbox_params(m: InboxMessage) -> dict[str, Any]:
    return {"eid": m.execution_id, "kind": m.kind, "name": m.name, "ref": m.ref,
            "payload": m.payload, "now": m.created_at}  # fmt: skip
