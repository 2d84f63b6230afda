"""How executions and histories look in a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from legato.client import ExecutionStatus
from legato.core import codec, started_by
from legato.core.durations import instant
from legato.core.event_rows import to_row
from legato.core.events import Event
from legato.ports.inspection import RetryingStep

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


def span(ms: int) -> str:
    """A duration as an operator reads it: the two largest units (``1h 5m``, ``42s``)."""
    seconds = max(ms, 0) // 1000
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


def next_attempt(s: RetryingStep, now_ms: int) -> str:
    """When the next attempt is due, absolute and from now (overdue: nobody has taken it)."""
    when = _time(instant(s.next_attempt_at))
    if s.next_attempt_at >= now_ms:
        return f"{when} (in {span(s.next_attempt_at - now_ms)})"
    return f"{when} (overdue by {span(now_ms - s.next_attempt_at)})"


def last_error(s: RetryingStep) -> str:
    return f"{s.error_type}: {s.message}" if s.message else s.error_type


def retrying_table(steps: list[RetryingStep], now_ms: int) -> Table:
    table = Table(title="Steps waiting for their next attempt")
    table.add_column("execution", no_wrap=True)
    table.add_column("step")
    table.add_column("attempt", no_wrap=True)
    table.add_column("last error", ratio=1)
    table.add_column("next attempt", no_wrap=True)
    for s in steps:
        due = s.next_attempt_at - now_ms
        when = f"in {span(due)}" if due >= 0 else f"overdue by {span(-due)}"
        table.add_row(  # Text: ids and error messages are not markup
            Text(s.execution_id),
            Text(s.step),
            f"{s.attempt} failed",
            Text(last_error(s)),
            f"#{s.attempt + 1} {when}\n{_time(instant(s.next_attempt_at))[:19]}",
        )
    return table


def execution_table(
    r: ExecutionStatus,
    output: str | None,
    retrying: Sequence[RetryingStep] = (),
    now_ms: int = 0,
) -> Table:
    table = Table(show_header=False, title=f"Execution {r.id}")
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        ("workflow", f"{r.workflow} (version {r.version})"),
        ("status", f"[{STATUS_STYLE.get(r.status.value, '')}]{r.status.value}[/]"),
        ("current step", r.current_step or ""),
        ("started", _time(r.created_at)),
        ("started by", escape(started_by.describe(r.started_by))),
        ("updated", _time(r.updated_at)),
        ("closed", _time(r.closed_at)),
    ]
    if output is not None:
        rows.append(("output", output))
    if r.error_type:
        rows.append(("error", f"{r.error_type}: {r.error_message}"))
    if r.reason:
        rows.append(("reason", r.reason))
    for step in retrying:
        rows.append(
            (
                "retrying",
                escape(
                    f"{step.step} (step {step.step_id}): attempt {step.attempt} failed with "
                    f"{last_error(step)}; attempt {step.attempt + 1} at "
                    f"{next_attempt(step, now_ms)}"
                ),
            )
        )
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
