"""How executions and histories look in a terminal."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table

from legato.client import ExecutionStatus
from legato.core import codec
from legato.core.durations import instant
from legato.core.event_rows import to_row
from legato.core.events import Event

STATUS_STYLE = {
    "COMPLETED": "green",
    "FAILED": "red",
    "RUNNING": "cyan",
    "PENDING": "white",
    "SUSPENDED": "yellow",
    "CANCELLED": "magenta",
    "TIMED_OUT": "red",
}


def _time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def executions_table(rows: list[ExecutionStatus]) -> Table:
    table = Table(title="Executions")
    for col in ("id", "workflow", "version", "status", "current step", "started", "closed"):
        table.add_column(col)
    for r in rows:
        style = STATUS_STYLE.get(r.status.value, "")
        table.add_row(
            r.id,
            r.workflow,
            r.version,
            f"[{style}]{r.status.value}[/]",
            r.current_step or "",
            _time(r.created_at),
            _time(r.closed_at),
        )
    return table


def execution_table(r: ExecutionStatus, output: str | None) -> Table:
    table = Table(show_header=False, title=f"Execution {r.id}")
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        ("workflow", f"{r.workflow} (version {r.version})"),
        ("status", f"[{STATUS_STYLE.get(r.status.value, '')}]{r.status.value}[/]"),
        ("current step", r.current_step or ""),
        ("started", _time(r.created_at)),
        ("updated", _time(r.updated_at)),
        ("closed", _time(r.closed_at)),
    ]
    if output is not None:
        rows.append(("output", output))
    if r.error_type:
        rows.append(("error", f"{r.error_type}: {r.error_message}"))
    if r.reason:
        rows.append(("reason", r.reason))
    for k, v in rows:
        table.add_row(k, v)
    return table


def history_table(execution_id: str, events: list[Event]) -> Table:
    table = Table(title=f"History of {execution_id}")
    for col in ("seq", "time", "event", "ref", "name", "details"):
        table.add_column(col)
    for e in events:
        row = to_row(e)
        details = dict(row.meta)
        details.pop("traceback", None)
        if row.payload is not None:
            details["payload"] = codec.loads(row.payload)
        text = codec.dumps(details, "event details")
        table.add_row(
            str(e.seq),
            _time(instant(e.ts)),
            row.type,
            "" if row.ref is None else str(row.ref),
            row.name or "",
            text if len(text) < 120 else text[:117] + "...",
        )
    return table
