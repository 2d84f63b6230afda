"""``legato executions``: look at executions, send them messages and operate them.

Every command but ``retrying`` reads and acts through a ``Backend`` (``backend.py``): the
database, or a server's HTTP API with ``--server URL``; the output is the same. On the
database, reads open it read-only (``common.reading``) and an id may be given by its first
characters wherever an execution is only read (``lookup.find_execution``); commands that act
on an execution go through ``legato.App``, as user code does.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from rich.text import Text

from legato.cli.as_json import retrying_json, status_json
from legato.cli.backend import ApiKeyOption, Backend, ServerOption, open_backend
from legato.cli.common import (
    AppOption,
    DbOption,
    JsonOption,
    console,
    err_console,
    json_value,
    locate,
    reading,
    run_command,
)
from legato.cli.help import HelpGroup
from legato.cli.output import UtcOption
from legato.cli.render import execution_table, executions_table, history_table, retrying_table
from legato.core import codec
from legato.core.events import Status
from legato.core.export import export_history
from legato.errors import LegatoError

executions_cli = typer.Typer(
    cls=HelpGroup,
    help="Inspect and operate executions: list, show, signal, cancel, terminate, redrive, resume.",
    no_args_is_help=True,
)

IdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="an execution id, or its first characters")
]
LimitOption = Annotated[int, typer.Option(help="list at most this many")]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _status(text: str | None) -> Status | None:
    if text is None:
        return None
    if text.upper() not in Status.__members__:
        raise LegatoError(f"unknown status {text!r}; one of {', '.join(Status.__members__)}")
    return Status(text.upper())


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise LegatoError(f"--limit must be at least 1, not {limit}")


def _more(count: int | None, json_output: bool) -> None:
    """Says how many were left out (None: some, uncounted); on stderr under --json, so stdout
    stays one JSON value."""
    if count is None or count > 0:
        line = f"… and {'more' if count is None else f'{count} more'}; use --limit"
        (err_console if json_output else console).print(line, highlight=False)


@executions_cli.command("list")
def executions_list(
    db: DbOption = None,
    app_module: AppOption = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="only this status; --status FAILED is the dead-letter list: executions "
            "that failed for good"
        ),
    ] = None,
    workflow: Annotated[str | None, typer.Option(help="only this workflow")] = None,
    limit: LimitOption = 50,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    utc: UtcOption = False,
) -> None:
    """List executions, newest first, and how many more there are beyond --limit."""

    async def main() -> None:
        wanted = _status(status)
        _check_limit(limit)
        async with open_backend(db, server, api_key, app_module=app_module) as backend:
            listed = await backend.list_executions(wanted, workflow, limit)
        if as_json:
            print(codec.dumps([status_json(r) for r in listed.rows], "executions", indent=2))
        else:
            console.print(executions_table(listed.rows))
        _more(listed.more, as_json)

    run_command(main)


@executions_cli.command("show")
def executions_show(
    execution_id: IdArgument,
    db: DbOption = None,
    app_module: AppOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    utc: UtcOption = False,
) -> None:
    """One execution: its status, output or error, its retrying steps, and the steps that wait
    for a worker that serves them.

    A retrying step waits for its next attempt after a failed one: shown with the attempt that
    failed, its error, and when the next attempt is due. A step no live worker serves (a
    rolling deploy) waits, and is named."""

    async def main() -> None:
        async with open_backend(db, server, api_key, app_module=app_module) as backend:
            shown = await backend.show(execution_id)
        if as_json:
            out = status_json(shown.status)
            out["input"] = shown.input
            out["output"] = codec.loads(shown.output)
            out["retrying"] = [retrying_json(s) for s in shown.retrying]
            out["waiting_for_workers"] = [{"step": w.step, "queue": w.queue} for w in shown.waiting]
            print(codec.dumps(out, "execution", indent=2))
        else:
            console.print(execution_table(shown.status, shown.output, shown.retrying, shown.now_ms))
            for w in shown.waiting:
                line = f"waiting for a worker that serves step {w.step} (queue {w.queue})"
                console.print(Text(line, style="yellow"), soft_wrap=True)

    run_command(main)


@executions_cli.command("history")
def executions_history(
    execution_id: IdArgument,
    db: DbOption = None,
    app_module: AppOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    utc: UtcOption = False,
) -> None:
    """An execution's event history; --json exports it for legato.testing.replay."""

    async def main() -> None:
        async with open_backend(db, server, api_key, app_module=app_module) as backend:
            h = await backend.history(execution_id)
        if as_json:
            exported = export_history(h.execution_id, h.workflow, h.version, h.events)
            print(codec.dumps(exported, "history", indent=2))
        else:
            console.print(history_table(h.execution_id, h.events))

    run_command(main)


@executions_cli.command("retrying")
def executions_retrying(
    db: DbOption = None,
    app_module: AppOption = None,
    limit: LimitOption = 50,
    as_json: JsonOption = False,
    utc: UtcOption = False,
) -> None:
    """Every step waiting for its next attempt after a failed one.

    Across executions, the soonest due first: execution, step, the attempt that failed, its
    error, and when the next attempt is due."""

    async def main() -> None:
        _check_limit(limit)
        now = _now_ms()
        async with reading(locate(db, app_module)) as store:
            found = await store.retrying_steps(now, limit + 1)  # one more: are there more?
        steps, more = found[:limit], len(found) > limit
        if as_json:
            print(codec.dumps([retrying_json(s) for s in steps], "retrying steps", indent=2))
        else:
            console.print(retrying_table(steps, now))
        if more:
            (err_console if as_json else console).print("… and more; use --limit")

    run_command(main)


@executions_cli.command("signal")
def executions_signal(
    execution_id: Annotated[str, typer.Argument(help="the execution's whole id")],
    name: Annotated[str, typer.Argument(help="the signal's name (ctx.wait_for_signal(NAME))")],
    payload: Annotated[str | None, typer.Option(help="the signal's JSON payload, or @FILE")] = None,
    db: DbOption = None,
    app_module: AppOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Send a signal to an open execution.

    It is recorded in the history and handed to the workflow's ctx.wait_for_signal(NAME);
    signals sent before the workflow waits are kept in order."""
    _act(
        db,
        app_module,
        server,
        api_key,
        f"sent signal {name!r} to {execution_id}",
        lambda b: b.signal(
            execution_id, name, None if payload is None else json_value(payload, "--payload")
        ),
    )


WholeId = Annotated[str, typer.Argument(metavar="ID", help="the execution's whole id")]
ReasonOption = Annotated[str | None, typer.Option(help="why (recorded in its history)")]


def _act(
    db: str | None,
    app_module: str | None,
    server: str | None,
    api_key: str | None,
    what: str,
    act: Callable[[Backend], Awaitable[object]],
) -> None:
    """Run one operation (on the database, through an App with no engine: the engine serving
    it carries it out; or through the server's API), and say what was done."""

    async def main() -> None:
        async with open_backend(db, server, api_key, app_module=app_module) as backend:
            await act(backend)
        console.print(Text(what), soft_wrap=True)  # ids and names are not markup

    run_command(main)


@executions_cli.command("cancel")
def executions_cancel(
    execution_id: WholeId,
    reason: ReasonOption = None,
    db: DbOption = None,
    app_module: AppOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Ask an execution to stop: its code sees legato.Cancelled at its next await (and may
    clean up or compensate), its running steps are told; it ends CANCELLED."""
    _act(
        db,
        app_module,
        server,
        api_key,
        f"asked {execution_id} to cancel",
        lambda b: b.cancel(execution_id, reason),
    )


@executions_cli.command("terminate")
def executions_terminate(
    execution_id: WholeId,
    reason: ReasonOption = None,
    db: DbOption = None,
    app_module: AppOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """End an execution at once: TERMINATED, no more of its code runs, its running steps'
    results are dropped."""
    _act(
        db,
        app_module,
        server,
        api_key,
        f"terminated {execution_id}",
        lambda b: b.terminate(execution_id, reason),
    )


@executions_cli.command("redrive")
def executions_redrive(
    execution_id: WholeId,
    db: DbOption = None,
    app_module: AppOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Continue a FAILED, TIMED_OUT or CANCELLED execution from where it failed, with the code
    the engine runs now: the failed step runs again with a fresh retry budget."""
    _act(
        db,
        app_module,
        server,
        api_key,
        f"redriven {execution_id}: the engine goes on with it",
        lambda b: b.redrive(execution_id),
    )


@executions_cli.command("resume")
def executions_resume(
    execution_id: WholeId,
    db: DbOption = None,
    app_module: AppOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Retry a SUSPENDED execution with the code the engine runs now (it suspends again if
    that code still does not match its history)."""
    _act(
        db,
        app_module,
        server,
        api_key,
        f"resumed {execution_id}: the engine replays it",
        lambda b: b.resume(execution_id),
    )
