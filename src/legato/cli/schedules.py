"""``legato schedules``: create, list, show, pause, resume, trigger, delete and backfill the
schedules that start workflows on a cron expression or an interval.

Every command works on the database (``--db``) or through a server's API (``--server``),
through ``schedule_backend.Schedules``; both answer the API's JSON shapes, printed as tables
here or as that JSON with ``--json``. Times given are ISO 8601 (UTC unless they say
otherwise); durations are seconds or a number with a unit (``500ms``, ``90s``, ``5m``, ``2h``,
``1d``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from legato.cli.backend import ApiKeyOption, ServerOption
from legato.cli.common import DbOption, JsonOption, console, err_console, json_value, run_command
from legato.cli.render import STATUS_STYLE
from legato.cli.schedule_backend import open_schedules
from legato.core import codec
from legato.errors import ConfigurationError

schedules_cli = typer.Typer(
    help="Schedules: start workflows on a cron expression or an interval; pause, resume, "
    "trigger, backfill.",
    no_args_is_help=True,
)
NameArgument = Annotated[str, typer.Argument(help="the schedule's name")]
AppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        help="with --db: module[:attribute] whose legato.App registers the workflow (a code "
        "workflow's schedule needs it; a stored state machine's does not)",
    ),
]
OVERLAPS = ("skip", "buffer_one", "allow_all", "cancel_other", "terminate_other")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$")


def duration(text: str, option: str) -> float:
    """``90``, ``90s``, ``5m``, ``1.5h``, ``500ms``, ``1d``: seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ConfigurationError(
            f"{option} {text!r} is not a duration: seconds, or a number with ms, s, m, h or d"
        )
    return float(match[1]) * _UNITS[match[2] or "s"]


def moment(text: str, option: str) -> datetime:
    """An ISO 8601 date or time (``2026-03-01``, ``2026-03-01T06:00``, ``...Z``, ``...+01:00``);
    without an offset it is UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(
            f"{option} {text!r} is not an ISO 8601 time (e.g. 2026-03-01T06:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@schedules_cli.command("create")
def create_cmd(
    name: NameArgument,
    workflow: Annotated[str, typer.Argument(help="the workflow or state machine it starts")],
    cron: Annotated[
        str | None,
        typer.Option(help='a cron expression: 5 fields, or 6 with seconds last; or "@hourly"'),
    ] = None,
    interval: Annotated[str | None, typer.Option(help="or every this long (90s, 5m, 1h)")] = None,
    timezone: Annotated[str, typer.Option(help="the cron's time zone (IANA)")] = "UTC",
    input: Annotated[
        str | None,
        typer.Option(help="JSON (or @FILE): a state machine's input, a workflow's one argument"),
    ] = None,
    args: Annotated[str | None, typer.Option(help="a JSON list of a workflow's arguments")] = None,
    kwargs: Annotated[str | None, typer.Option(help="a JSON object of them by name")] = None,
    overlap: Annotated[
        str, typer.Option(help=f"while its last run is open: {', '.join(OVERLAPS)}")
    ] = "skip",
    catchup_window: Annotated[
        str | None,
        typer.Option(help="after downtime, fires missed within this long still run (e.g. 10m)"),
    ] = None,
    jitter: Annotated[str | None, typer.Option(help="delay each fire by up to this long")] = None,
    start_at: Annotated[str | None, typer.Option(help="no fire before this time")] = None,
    end_at: Annotated[str | None, typer.Option(help="no fire after this time")] = None,
    version: Annotated[str | None, typer.Option(help="the workflow version (default: latest)")] = (
        None
    ),
    paused: Annotated[bool, typer.Option("--paused", help="create it paused")] = False,
    note: Annotated[str | None, typer.Option(help="why it is paused")] = None,
    db: DbOption = None,
    app_module: AppOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Create a schedule; prints it with its next fire times. Give --cron or --interval."""

    async def main() -> None:
        fields: dict[str, Any] = {"timezone": timezone, "overlap": overlap, "paused": paused}
        if cron is not None:
            fields["cron"] = cron
        if interval is not None:
            fields["interval_seconds"] = duration(interval, "--interval")
        if input is not None:
            fields["input"] = json_value(input, "--input")
        if args is not None:
            fields["args"] = json_value(args, "--args")
        if kwargs is not None:
            fields["kwargs"] = json_value(kwargs, "--kwargs")
        if catchup_window is not None:
            fields["catchup_window_seconds"] = duration(catchup_window, "--catchup-window")
        if jitter is not None:
            fields["jitter_seconds"] = duration(jitter, "--jitter")
        for key, text, option in (
            ("start_at", start_at, "--start-at"),
            ("end_at", end_at, "--end-at"),
        ):
            if text is not None:
                fields[key] = _iso(moment(text, option))
        for key, value in (("version", version), ("note", note)):
            if value is not None:
                fields[key] = value
        async with open_schedules(db, server, api_key, app_module) as schedules:
            made = await schedules.create(name, workflow, fields)
        if as_json:
            print(codec.dumps(made, "schedule", indent=2))
            return
        console.print(Text.assemble("created schedule ", (name, "bold")), highlight=False)
        _print_schedule(made)

    run_command(main)


@schedules_cli.command("list")
def list_cmd(
    db: DbOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Every schedule: what it starts, when, its overlap policy, whether it is paused and its
    next fire time."""

    async def main() -> None:
        async with open_schedules(db, server, api_key) as schedules:
            found = await schedules.every()
        if as_json:
            print(codec.dumps({"items": found}, "schedules", indent=2))
            return
        table = Table(title="Schedules")
        for col in ("name", "workflow", "when", "overlap", "state", "next fire"):
            table.add_column(col)
        for s in found:
            upcoming = s.get("next_fire_times") or []
            table.add_row(
                Text(s["name"]),
                Text(s["workflow"]),
                Text(spec_text(s)),
                s["overlap"],
                _state(s),
                _when(upcoming[0]) if upcoming else "",
            )
        console.print(table)

    run_command(main)


@schedules_cli.command("show")
def show_cmd(
    name: NameArgument,
    count: Annotated[int, typer.Option("--next", help="show this many next fire times")] = 5,
    runs: Annotated[int, typer.Option("--runs", help="show this many recent runs")] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """A schedule: its spec and policy, paused (and why), the next fire times and its recent
    runs with their executions' status."""

    async def main() -> None:
        if count < 0 or runs < 0:
            raise ConfigurationError("--next and --runs must be at least 0")
        async with open_schedules(db, server, api_key) as schedules:
            shown = await schedules.show(name, count)
            recent = await schedules.runs(name, runs) if runs else []
        if as_json:
            print(codec.dumps({**shown, "runs": recent}, "schedule", indent=2))
            return
        _print_schedule(shown)
        if recent:
            console.print(runs_table(recent))
        else:
            console.print("no runs yet", highlight=False)

    run_command(main)


def _print_schedule(s: dict[str, Any]) -> None:
    table = Table(show_header=False, title=f"Schedule {s['name']}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    version = f" (version {s['version']})" if s.get("version") else ""
    rows: list[tuple[str, Text | str]] = [
        ("workflow", Text(f"{s['workflow']}{version}")),
        ("when", Text(spec_text(s))),
        ("overlap", s["overlap"]),
        ("catch-up window", f"{_seconds(s.get('catchup_window_seconds'))}"),
        ("state", _state(s)),
        ("input", Text(codec.dumps(_call(s), "input"))),
    ]
    if s.get("missed") or s.get("skipped"):
        rows.append(("missed / skipped", f"{s.get('missed', 0)} / {s.get('skipped', 0)}"))
    upcoming = s.get("next_fire_times") or []
    rows.append(("next fires", "\n".join(_when(t, s.get("timezone")) for t in upcoming) or "none"))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


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
        said += f", from {_when(s['start_at'])}"
    if s.get("end_at"):
        said += f", until {_when(s['end_at'])}"
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


def _state(s: dict[str, Any]) -> Text:
    if not s.get("paused"):
        return Text("active", style="green")
    note = s.get("note")
    return Text.assemble(("paused", "yellow"), f": {note}" if note else "")


def _when(text: str, zone: str | None = None) -> str:
    """An API time as the tables show it (UTC), and in the schedule's zone if it has one."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    shown = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if zone and zone != "UTC":
        from zoneinfo import ZoneInfo

        try:
            local = value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")
        except (ValueError, KeyError):
            return shown
        shown += f" ({local})"
    return shown


def runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Recent runs")
    for col in ("fire time", "kind", "outcome", "execution", "status"):
        table.add_column(col)
    for r in runs:
        status = r.get("status") or ""
        table.add_row(
            _when(r["fire_time"]),
            r.get("kind") or "",
            r["outcome"],
            Text(r.get("execution_id") or ""),
            Text(status, style=STATUS_STYLE.get(status, "")),
        )
    return table


def _done(
    what: str, db: str | None, server: str | None, api_key: str | None, act: str, **kw: Any
) -> None:
    """Run one schedule operation and say what was done."""

    async def main() -> None:
        async with open_schedules(db, server, api_key) as schedules:
            result = await getattr(schedules, act)(**kw)
        line = what.format(result=result)
        console.print(Text(line), highlight=False, soft_wrap=True)

    run_command(main)


@schedules_cli.command("pause")
def pause_cmd(
    name: NameArgument,
    note: Annotated[str | None, typer.Option(help="why (shown with the schedule)")] = None,
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Stop firing until resumed (a fire due meanwhile is not made up for on resume)."""
    _done(f"paused schedule {name}", db, server, api_key, "pause", name=name, note=note)


@schedules_cli.command("resume")
def resume_cmd(
    name: NameArgument,
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Fire again from the next fire time on."""
    _done(f"resumed schedule {name}", db, server, api_key, "resume", name=name)


@schedules_cli.command("trigger")
def trigger_cmd(
    name: NameArgument,
    db: DbOption = None,
    app_module: AppOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Start a run now, as the schedule would (whether or not it is paused); prints the
    execution's id."""

    async def main() -> None:
        async with open_schedules(db, server, api_key, app_module) as schedules:
            execution_id = await schedules.trigger(name)
        print(execution_id)

    run_command(main)


@schedules_cli.command("delete")
def delete_cmd(
    name: NameArgument,
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Delete a schedule (the executions it started stay)."""
    _done(f"deleted schedule {name}", db, server, api_key, "delete", name=name)


@schedules_cli.command("backfill")
def backfill_cmd(
    name: NameArgument,
    start: Annotated[str, typer.Option("--from", help="from this time (ISO 8601), inclusive")],
    end: Annotated[str, typer.Option("--to", help="to this time, exclusive")],
    db: DbOption = None,
    app_module: AppOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Start the runs the schedule would have started between --from and --to, in order and
    under its overlap policy, with a progress bar. Runs already started (an earlier backfill,
    the schedule itself) are counted, never started twice; so an interrupted backfill is
    resumed by running it again. On --db an engine serving the database runs them."""

    async def main() -> None:
        begin, until = moment(start, "--from"), moment(end, "--to")
        if until <= begin:
            raise ConfigurationError(f"--to ({end}) must be after --from ({start})")
        bar = Progress(
            TextColumn("backfill [bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TimeElapsedColumn(),
            console=err_console,
            transient=as_json,
        )
        task = bar.add_task(name, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        with bar:
            async with open_schedules(db, server, api_key, app_module) as schedules:
                report = await schedules.backfill(name, begin, until, progress)
        if as_json:
            print(codec.dumps(report, "backfill", indent=2))
            return
        console.print(Text(backfill_text(name, report)), highlight=False, soft_wrap=True)

    run_command(main)


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
