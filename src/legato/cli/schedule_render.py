"""How schedules, their runs and a backfill's outcome look in a terminal (from the API's JSON
shapes, ``client/schedule_views.py``, whichever backend gave them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from legato.cli.output import moment
from legato.cli.render import STATUS_STYLE
from legato.core import codec


def schedule_table(s: dict[str, Any]) -> Table:
    """A schedule (the API's JSON): what it starts, when, its policy and state, its next fire
    times (also in its own time zone)."""
    table = Table(show_header=False, title=f"Schedule {s['name']}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    version = f" (version {s['version']})" if s.get("version") else ""
    rows: list[tuple[str, Text | str]] = [
        ("workflow", Text(f"{s['workflow']}{version}")),
        ("when", Text(spec_text(s))),
        ("overlap", s["overlap"]),
        ("catch-up window", f"{_seconds(s.get('catchup_window_seconds'))}"),
        ("state", state_text(s)),
        ("input", Text(codec.dumps(_call(s), "input"))),
    ]
    if s.get("missed") or s.get("skipped"):
        rows.append(("missed / skipped", f"{s.get('missed', 0)} / {s.get('skipped', 0)}"))
    upcoming = s.get("next_fire_times") or []
    nothing = "none while paused" if s.get("paused") else "none (past its end)"
    rows.append(("next fires", "\n".join(when(t, s.get("timezone")) for t in upcoming) or nothing))
    for key, value in rows:
        table.add_row(key, value)
    return table


def _call(s: dict[str, Any]) -> Any:
    if s.get("kwargs"):
        return {"args": s.get("args") or [], "kwargs": s["kwargs"]}
    return s.get("args") or []


def spec_text(s: dict[str, Any]) -> str:
    """``cron "0 1 * * *" in Europe/Berlin``, ``every 5m``; with its start, end and jitter."""
    if s.get("cron"):
        said = f'cron "{s["cron"]}" in {s.get("timezone") or "UTC"}'
    else:
        said = f"every {_seconds(s.get('interval_seconds'))}"
    if s.get("start_at"):
        said += f", from {when(s['start_at'])}"
    if s.get("end_at"):
        said += f", until {when(s['end_at'])}"
    if s.get("jitter_seconds"):
        said += f", jitter up to {_seconds(s['jitter_seconds'])}"
    return said


def _seconds(value: Any) -> str:
    if value is None:
        return ""
    total = float(value)
    for unit, size in (("d", 86_400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if total >= size and total % size == 0:
            return f"{int(total // size)}{unit}"
    return f"{total:g}s"


def state_text(s: dict[str, Any]) -> Text:
    if not s.get("paused"):
        return Text("active", style="green")
    note = s.get("note")
    return Text.assemble(("paused", "yellow"), f": {note}" if note else "")


def when(text: str, zone: str | None = None) -> str:
    """An API time as the tables show it (local, or UTC with ``--utc``), and in the
    schedule's zone if that reads otherwise."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    shown = moment(value, ms=False)
    if zone and zone != "UTC":
        try:
            local = value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")
        except (ValueError, KeyError):
            return shown
        if local != shown:
            shown += f" ({local})"
    return shown


def runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Recent runs")
    for col in ("fire time", "kind", "outcome", "execution", "status"):
        table.add_column(col)
    for r in runs:
        status = r.get("status") or ""
        table.add_row(
            when(r["fire_time"]),
            r.get("kind") or "",
            r["outcome"],
            Text(r.get("execution_id") or ""),
            Text(status, style=STATUS_STYLE.get(status, "")),
        )
    return table


def backfill_text(name: str, answer: dict[str, Any]) -> str:
    """One line: the fire times the backfill covered, how many runs it started, how many it
    found started already, and how those runs ended."""
    report = answer.get("report") or {}
    statuses: dict[str, int] = {}
    for status in (report.get("statuses") or {}).values():
        statuses[status] = statuses.get(status, 0) + 1
    ended = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    said = (
        f"backfilled {name}: {len(report.get('fire_times') or [])} fire times, "
        f"{len(report.get('started') or [])} runs started, "
        f"{len(report.get('existing') or [])} started before"
    )
    return said + (f" ({ended})" if ended else "")
