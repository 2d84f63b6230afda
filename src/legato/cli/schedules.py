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
from legato.cli.help import HelpGroup
from legato.cli.schedule_backend import open_schedules
from legato.cli.schedule_render import (
    backfill_text,
    runs_table,
    schedule_table,
    spec_text,
    state_text,
    when,
)
from legato.core import codec
from legato.errors import ConfigurationError

schedules_cli = typer.Typer(
    cls=HelpGroup,
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


CronOption = Annotated[
    str | None,
    typer.Option(help='a cron expression: 5 fields, or 6 with seconds last; or "@hourly"'),
]
IntervalOption = Annotated[str | None, typer.Option(help="or every this long (90s, 5m, 1h)")]
InputOption = Annotated[
    str | None,
    typer.Option(help="JSON (or @FILE): a state machine's input, a workflow's one argument"),
]
ArgsOption = Annotated[str | None, typer.Option(help="a JSON list of a workflow's arguments")]
KwargsOption = Annotated[str | None, typer.Option(help="a JSON object of them by name")]
CatchupOption = Annotated[
    str | None,
    typer.Option(help="after downtime, fires missed within this long still run (e.g. 10m)"),
]
JitterOption = Annotated[str | None, typer.Option(help="delay each fire by up to this long")]
StartOption = Annotated[str | None, typer.Option(help="no fire before this time")]
EndOption = Annotated[str | None, typer.Option(help="no fire after this time")]
VersionOption = Annotated[
    str | None, typer.Option(help="the workflow version (default: the latest when it fires)")
]


def fields_of(
    *,
    cron: str | None,
    interval: str | None,
    input: str | None,
    args: str | None,
    kwargs: str | None,
    catchup_window: str | None,
    jitter: str | None,
    start_at: str | None,
    end_at: str | None,
    **given: Any,
) -> dict[str, Any]:
    """The options given, as the API's body names them (``api/schedules.py``)."""
    fields: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if cron is not None:
        fields["cron"] = cron
    if interval is not None:
        fields["interval_seconds"] = duration(interval, "--interval")
    for key, text in (("input", input), ("args", args), ("kwargs", kwargs)):
        if text is not None:
            fields[key] = json_value(text, f"--{key}")
    if catchup_window is not None:
        fields["catchup_window_seconds"] = duration(catchup_window, "--catchup-window")
    if jitter is not None:
        fields["jitter_seconds"] = duration(jitter, "--jitter")
    for key, text, option in (("start_at", start_at, "--start-at"), ("end_at", end_at, "--end-at")):
        if text is not None:
            fields[key] = _iso(moment(text, option))
    return fields


@schedules_cli.command("create")
def create_cmd(
    name: NameArgument,
    workflow: Annotated[str, typer.Argument(help="the workflow or state machine it starts")],
    cron: CronOption = None,
    interval: IntervalOption = None,
    timezone: Annotated[str, typer.Option(help="the cron's time zone (IANA)")] = "UTC",
    input: InputOption = None,
    args: ArgsOption = None,
    kwargs: KwargsOption = None,
    overlap: Annotated[
        str, typer.Option(help=f"while its last run is open: {', '.join(OVERLAPS)}")
    ] = "skip",
    catchup_window: CatchupOption = None,
    jitter: JitterOption = None,
    start_at: StartOption = None,
    end_at: EndOption = None,
    version: VersionOption = None,
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
        fields = fields_of(
            cron=cron, interval=interval, input=input, args=args, kwargs=kwargs,
            catchup_window=catchup_window, jitter=jitter, start_at=start_at, end_at=end_at,
            timezone=timezone, overlap=overlap, paused=paused, version=version, note=note,
        )  # fmt: skip
        async with open_schedules(db, server, api_key, app_module) as schedules:
            made = await schedules.create(name, workflow, fields)
        if as_json:
            print(codec.dumps(made, "schedule", indent=2))
            return
        console.print(Text.assemble("created schedule ", (name, "bold")), highlight=False)
        console.print(schedule_table(made))

    run_command(main)


@schedules_cli.command("update")
def update_cmd(
    name: NameArgument,
    workflow: Annotated[
        str | None, typer.Option(help="start this workflow or state machine instead")
    ] = None,
    cron: CronOption = None,
    interval: IntervalOption = None,
    timezone: Annotated[str | None, typer.Option(help="the cron's time zone (IANA)")] = None,
    input: InputOption = None,
    args: ArgsOption = None,
    kwargs: KwargsOption = None,
    overlap: Annotated[
        str | None, typer.Option(help=f"while its last run is open: {', '.join(OVERLAPS)}")
    ] = None,
    catchup_window: CatchupOption = None,
    jitter: JitterOption = None,
    start_at: StartOption = None,
    end_at: EndOption = None,
    version: VersionOption = None,
    db: DbOption = None,
    app_module: AppOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Change some of a schedule's fields; the others (and whether it is paused) stay.
    --input, --args and --kwargs give the whole call; a new timing fires from now on."""

    async def main() -> None:
        fields = fields_of(
            cron=cron, interval=interval, input=input, args=args, kwargs=kwargs,
            catchup_window=catchup_window, jitter=jitter, start_at=start_at, end_at=end_at,
            workflow=workflow, timezone=timezone, overlap=overlap, version=version,
        )  # fmt: skip
        if not fields:
            raise ConfigurationError("nothing to change: give the options to change")
        async with open_schedules(db, server, api_key, app_module) as schedules:
            changed = await schedules.update(name, fields)
        if as_json:
            print(codec.dumps(changed, "schedule", indent=2))
            return
        console.print(Text.assemble("updated schedule ", (name, "bold")), highlight=False)
        console.print(schedule_table(changed))

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
                state_text(s),
                when(upcoming[0]) if upcoming else "",
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
        console.print(schedule_table(shown))
        if recent:
            console.print(runs_table(recent))
        else:
            console.print("no runs yet", highlight=False)

    run_command(main)


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
