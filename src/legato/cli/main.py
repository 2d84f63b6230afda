"""``legato``: dev (orchestrator + worker in one process), server, worker, run (a state
machine), migrate, executions, definitions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from legato.cli.definitions import definitions_cli
from legato.cli.loading import load_app
from legato.cli.render import execution_table, executions_table, history_table
from legato.cli.serving import log_lifecycle, serve_until_stopped
from legato.client import DEFAULT_URL, App, ExecutionStatus, open_store
from legato.core import codec
from legato.core.events import Status
from legato.core.export import export_history
from legato.errors import ConfigurationError, ExecutionFailedError, LegatoError
from legato.ports.executions import ExecutionRow
from legato.ports.store import Store
from legato.ports.workers import WaitingStep

app_cli = typer.Typer(
    help="Legato: durable workflows for Python.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
executions_cli = typer.Typer(help="Inspect executions.", no_args_is_help=True)
app_cli.add_typer(executions_cli, name="executions")
app_cli.add_typer(definitions_cli, name="definitions")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL (default: the app's, or $LEGATO_DB, or " + DEFAULT_URL + ")"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
GraceOption = Annotated[
    float,
    typer.Option(
        "--grace-seconds",
        help="on SIGTERM or Ctrl-C, how long running steps may take to finish (and have their "
        "outcomes recorded) before they are cancelled; a second signal exits at once",
    ),
]


def _setup_logging(verbose: bool, *, serving: bool = False) -> None:
    """``serving``: a long-running command always logs its lifecycle (how it stops)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )
    if serving:
        log_lifecycle()


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs a command; Legato errors become one red line and exit code 1, never a traceback."""
    try:
        return asyncio.run(main())
    except LegatoError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app_cli.command()
def dev(
    app_module: Annotated[str, typer.Argument(help="module[:attribute] holding a legato.App")],
    db: DbOption = None,
    start: Annotated[str | None, typer.Option(help="start this workflow once running")] = None,
    input: Annotated[str, typer.Option(help="JSON list of arguments for --start")] = "[]",
    example: Annotated[bool, typer.Option(help="start the app module's EXAMPLE execution")] = False,
    worker: Annotated[bool, typer.Option(help="run steps in this process too")] = True,
    concurrency: Annotated[int, typer.Option(help="steps run at once")] = 100,
    grace_seconds: GraceOption = 30.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the orchestrator and a worker in one process (SQLite by default)."""
    _setup_logging(verbose, serving=True)

    async def main() -> None:
        app = load_app(app_module)
        app.configure(
            url=db or os.environ.get("LEGATO_DB") or app.url,
            concurrency=concurrency,
            grace_seconds=grace_seconds,
        )
        to_start: tuple[str, list[Any]] | None = None
        if start:
            to_start = (start, _json_list(input))
        elif example:
            spec = getattr(sys.modules[app_module.partition(":")[0]], "EXAMPLE", None)
            if spec is None:
                raise LegatoError(f"module {app_module!r} defines no EXAMPLE = (workflow, [args])")
            to_start = (spec[0], list(spec[1]))
        names = sorted({f"{n} v{v}" for n, v in app.registry.workflows})
        console.print(f"[bold]Legato dev[/] on [cyan]{app.url}[/]")
        console.print(
            f"workflows: {', '.join(names) or 'none'}; steps: "
            f"{', '.join(sorted(app.registry.steps)) or 'none'}"
        )
        console.print("press Ctrl-C to stop")

        async def on_ready() -> None:
            if to_start is None:
                return
            name, args = to_start
            handle = await app.start(name, *args)
            console.print(f"started execution [bold]{handle.id}[/] of {name}")
            asyncio.get_running_loop().create_task(_report(app, handle.id))

        await serve_until_stopped(app, orchestrate=True, work=worker, on_ready=on_ready)

    _run(main)


async def _report(app: App, execution_id: str) -> None:
    handle = app.get_handle(execution_id)
    try:
        result = await handle.result()
        text = codec.dumps(result, "result")
        console.print(f"execution [bold]{execution_id}[/] [green]COMPLETED[/]: {text}")
    except LegatoError as exc:
        console.print(f"execution [bold]{execution_id}[/] [red]did not complete[/]: {exc}")
    status = await handle.status()
    output = (await handle.status_row()).output if status.status == Status.COMPLETED else None
    console.print(execution_table(status, output))


def _json_list(text: str) -> list[Any]:
    try:
        value = codec.loads(text)
    except ValueError as exc:
        raise LegatoError(f"--input is not valid JSON: {exc}") from None
    return value if isinstance(value, list) else [value]


@app_cli.command("run")
def run_cmd(
    file: Annotated[Path, typer.Argument(help="state machine definition (.json, .yaml, .yml)")],
    input: Annotated[str, typer.Option(help="the execution's input: JSON, or @FILE")] = "{}",
    app_module: Annotated[
        str | None, typer.Option("--app", help="module[:attribute] whose App has the steps")
    ] = None,
    wait: Annotated[bool, typer.Option(help="run it here until it ends; print the output")] = False,
    name: Annotated[str | None, typer.Option(help="workflow name (default: the file's)")] = None,
    id: Annotated[str | None, typer.Option(help="execution id (default: a new one)")] = None,
    db: DbOption = None,
    timeout: Annotated[float | None, typer.Option(help="seconds to wait at most")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run a state machine. With --wait, this process runs it to the end and prints its output
    (or its error and cause, exit code 1); without, it records the execution for the engine
    that serves the database and prints its id."""
    _setup_logging(verbose)
    machine = name or file.name.split(".")[0]

    async def main() -> None:
        app = load_app(app_module) if app_module else App()
        app.configure(url=db or os.environ.get("LEGATO_DB") or app.url)
        app.register_state_machine(machine, file)
        value = _json_value(input)
        if not wait:
            handle = await app.start(machine, value, id=id)
            await app.shutdown()
            console.print(handle.id)
            return
        await app.start_engine()
        try:
            handle = await app.start(machine, value, id=id)
            try:
                output = await handle.result(timeout=timeout)
            except ExecutionFailedError as exc:
                err_console.print(f"[red]{exc.status}[/] {handle.id}")
                err_console.print(f"error: {exc.error_type}")
                err_console.print(f"cause: {exc.message}")
                raise typer.Exit(1) from None
            console.print_json(codec.dumps(output, "output"))
        finally:
            await app.shutdown()

    _run(main)


def _json_value(text: str) -> Any:
    """``--input``: JSON text, or ``@path`` to a file holding it."""
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise ConfigurationError(f"cannot read input file {source!r}: {exc}") from None
    try:
        return codec.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{source} is not valid JSON: {exc}") from None


@app_cli.command()
def server(
    app_module: Annotated[str, typer.Argument(help="module[:attribute] holding a legato.App")],
    db: DbOption = None,
    lease_seconds: Annotated[
        float | None, typer.Option(help="partition and task lease (default: the app's)")
    ] = None,
    grace_seconds: GraceOption = 30.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the orchestrator role: decide the executions of the partitions this replica leases.
    Run as many as you like against one database; they share the partitions."""
    _setup_logging(verbose, serving=True)

    async def main() -> None:
        app = load_app(app_module)
        app.configure(url=db or os.environ.get("LEGATO_DB") or app.url, grace_seconds=grace_seconds)
        if lease_seconds is not None:
            app.configure(lease_seconds=lease_seconds)
        err_console.print(f"Legato server on {app.url}")
        await serve_until_stopped(app, orchestrate=True, work=False)

    _run(main)


@app_cli.command("worker")
def worker_cmd(
    app_module: Annotated[str, typer.Argument(help="module[:attribute] holding a legato.App")],
    db: DbOption = None,
    concurrency: Annotated[int, typer.Option(help="steps run at once")] = 100,
    queue: Annotated[list[str] | None, typer.Option(help="queues to serve (default: all)")] = None,
    grace_seconds: GraceOption = 30.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the app's steps: claim tasks from the database, run them, record the outcomes.
    It claims only the steps the app module registers (old and new workers can run side by
    side during a deploy)."""
    _setup_logging(verbose, serving=True)

    async def main() -> None:
        app = load_app(app_module)
        app.configure(
            url=db or os.environ.get("LEGATO_DB") or app.url,
            concurrency=concurrency,
            grace_seconds=grace_seconds,
        )
        err_console.print(f"Legato worker on {app.url}, concurrency {concurrency}")
        await serve_until_stopped(app, orchestrate=False, work=True, queues=queue or None)

    _run(main)


@contextlib.asynccontextmanager
async def _reading(db: str | None) -> AsyncIterator[Store]:
    """A read-only view of the database: inspecting never writes (works on a read-only file)."""
    store = open_store(db or os.environ.get("LEGATO_DB") or DEFAULT_URL)
    await store.open_reader()
    try:
        yield store
    finally:
        await store.close_reader()


@app_cli.command()
def migrate(db: DbOption = None) -> None:
    """Bring the database schema up to date (``legato dev`` does this at start-up)."""

    async def main() -> None:
        store = open_store(db or os.environ.get("LEGATO_DB") or DEFAULT_URL)
        try:
            applied = await store.migrate()
        finally:
            await store.close()
        if applied:
            console.print(f"applied migrations {', '.join(map(str, applied))}")
        else:
            console.print("the schema is up to date")

    _run(main)


async def _execution(store: Store, execution_id: str) -> ExecutionRow:
    row = await store.load_execution(execution_id)
    if row is None:
        raise LegatoError(f"no execution with id {execution_id!r}")
    return row


@executions_cli.command("list")
def executions_list(
    db: DbOption = None,
    status: Annotated[str | None, typer.Option(help="only this status")] = None,
    limit: Annotated[int, typer.Option()] = 50,
    as_json: JsonOption = False,
) -> None:
    """List executions, newest first."""

    async def main() -> None:
        if status is not None and status.upper() not in Status.__members__:
            raise LegatoError(f"unknown status {status!r}; one of {', '.join(Status.__members__)}")
        async with _reading(db) as store:
            found = await store.list_executions(
                Status(status.upper()) if status else None, None, limit
            )
        rows = [ExecutionStatus.from_row(r) for r in found]
        if as_json:
            print(codec.dumps([_status_json(r) for r in rows], "executions", indent=2))
        else:
            console.print(executions_table(rows))

    _run(main)


def _status_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "workflow": r.workflow,
        "version": r.version,
        "status": r.status.value,
        "current_step": r.current_step,
        "reason": r.reason,
        "error_type": r.error_type,
        "error_message": r.error_message,
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
        "closed_at": r.closed_at.isoformat() if r.closed_at else None,
    }


@executions_cli.command("show")
def executions_show(
    execution_id: Annotated[str, typer.Argument()], db: DbOption = None, as_json: JsonOption = False
) -> None:
    """One execution: status, current step, output or error."""

    async def main() -> None:
        async with _reading(db) as store:
            row = await _execution(store, execution_id)
            waiting: list[WaitingStep] = []
            if row.status == Status.RUNNING:
                waiting = await store.waiting_steps(execution_id, int(time.time() * 1000))
        st = ExecutionStatus.from_row(row)
        if as_json:
            out = _status_json(st)
            out["input"] = codec.loads(row.input)
            out["output"] = codec.loads(row.output)
            out["waiting_for_workers"] = [{"step": w.step, "queue": w.queue} for w in waiting]
            print(codec.dumps(out, "execution", indent=2))
        else:
            console.print(execution_table(st, row.output))
            for w in waiting:  # a rolling deploy: no live worker has this step
                console.print(
                    f"[yellow]waiting for a worker that serves step {escape(w.step)}[/] "
                    f"(queue {escape(w.queue)})",
                    soft_wrap=True,
                )

    _run(main)


@executions_cli.command("history")
def executions_history(
    execution_id: Annotated[str, typer.Argument()], db: DbOption = None, as_json: JsonOption = False
) -> None:
    """An execution's event history; --json exports it for legato.testing.replay."""

    async def main() -> None:
        async with _reading(db) as store:
            row = await _execution(store, execution_id)
            events = await store.load_history(execution_id)
        if as_json:
            exported = export_history(row.id, row.workflow, row.version, events)
            print(codec.dumps(exported, "history", indent=2))
        else:
            console.print(history_table(execution_id, events))

    _run(main)


def main() -> None:
    app_cli()
