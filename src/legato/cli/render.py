"""How executions and histories look in a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text

from legato.cli.output import moment, span
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


_time = moment


def _status(r: ExecutionStatus) -> Text:
    return Text(r.status.value, style=STATUS_STYLE.get(r.status.value, ""))


def took(r: ExecutionStatus, now: datetime | None = None) -> str:
    """How long it ran (closed), or has run so far."""
    end = r.closed_at or now or datetime.now(UTC)
    ran = span(int((end - r.created_at).total_seconds() * 1000))
    return ran if r.closed_at else f"{ran} so far"


def executions_table(rows: list[ExecutionStatus]) -> Table:
    """Ids whole (their column never wraps; the others give way): one can be copied."""
    table = Table(title="Executions")
    table.add_column("id", no_wrap=True)
    for col in ("workflow", "version", "status", "current step"):
        table.add_column(col)
    table.add_column("started", no_wrap=True)
    table.add_column("duration")
    now = datetime.now(UTC)
    for r in rows:  # Text: ids, names and steps are not markup
        table.add_row(
            Text(r.id),
            Text(r.workflow),
            Text(r.version),
            _status(r),
            Text(r.current_step or ""),
            _time(r.created_at),
            took(r, now),
        )
    return table


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
    table.add_column("step", no_wrap=True)
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
            f"#{s.attempt + 1} {when}\n{_time(instant(s.next_attempt_at))}",
        )
    return table


def execution_table(
    r: ExecutionStatus,
    output: str | None,
    retrying: Sequence[RetryingStep] = (),
    now_ms: int = 0,
) -> Table:
    table = Table(show_header=False, title=Text(f"Execution {r.id}"))
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    rows: list[tuple[str, str | Text]] = [  # Text: none of it is markup
        ("id", r.id),
        ("workflow", f"{r.workflow} (version {r.version})"),
        ("status", _status(r)),
        ("current step", r.current_step or ""),
        ("started", _time(r.created_at)),
        ("started by", started_by.describe(r.started_by)),
        ("updated", _time(r.updated_at)),
        ("closed", _time(r.closed_at)),
        ("duration", took(r)),
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
                f"{step.step} (step {step.step_id}): attempt {step.attempt} failed with "
                f"{last_error(step)}; attempt {step.attempt + 1} at "
                f"{next_attempt(step, now_ms)}",
            )
        )
    for k, v in rows:
        table.add_row(k, v if isinstance(v, Text) else Text(v))
    return table


def history_table(execution_id: str, events: list[Event]) -> Table:
    table = Table(title=Text(f"History of {execution_id}"))
    table.add_column("seq", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("event", no_wrap=True)  # event names are never cut
    table.add_column("ref", no_wrap=True)
    table.add_column("name")
    table.add_column("details", ratio=1, overflow="fold")
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
            Text(row.name or ""),
            Text(text if len(text) < 120 else text[:117] + "..."),
        )
    return table
