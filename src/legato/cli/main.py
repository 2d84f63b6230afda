"""``legato``: dev (orchestrator + worker in one process), server, worker, run (a state
machine), start, migrate, executions, definitions, keys, schedules.

Each group of commands is a module of its own (``executions.py``, ``definitions.py``,
``start.py``); what they share (consoles, ``--db``, one-red-line errors) is ``common.py``."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import nullcontext
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from legato.api.settings import DEFAULT_HOST, DEFAULT_PORT, ApiSettings, parse_bind
from legato.cli.backend import ApiKeyOption, ServerOption
from legato.cli.common import (
    AppOption,
    DbOption,
    console,
    database_url,
    json_value,
    locate,
    print_result,
    run_command,
    setup_logging,
)
from legato.cli.definitions import definitions_cli, name_of
from legato.cli.events import events_cli, subscriptions_cli
from legato.cli.executions import executions_cli
from legato.cli.help import HelpGroup
from legato.cli.keys import keys_cli
from legato.cli.loading import load_app, load_module
from legato.cli.logs import LogFormatOption, VerboseOption
from legato.cli.output import span, use_utc
from legato.cli.render import execution_table
from legato.cli.run_file import version_to_run
from legato.cli.run_mocks import check_mock_options, use_mocks
from legato.cli.run_remote import run_on_server
from legato.cli.schedules import schedules_cli
from legato.cli.serving import serve_remote_until_stopped, serve_until_stopped
from legato.cli.start import start as start_cmd
from legato.client import App, open_store
from legato.core import codec
from legato.core.events import Status
from legato.errors import LegatoError

log = logging.getLogger("legato.cli")
app_cli = typer.Typer(
    cls=HelpGroup,
    help="Legato: durable workflows for Python.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help is plain text: docstrings rewrapped, brackets literal
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(asked: bool) -> None:
    if asked:
        print(f"legato {package_version('legato')}")
        raise typer.Exit()


@app_cli.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
    utc: Annotated[
        bool,
        typer.Option(
            "--utc", help="show times in UTC (default: local time, its zone named; or LEGATO_UTC=1)"
        ),
    ] = False,
) -> None:
    use_utc(utc)


app_cli.add_typer(executions_cli, name="executions")
GraceOption = Annotated[
    float,
    typer.Option(
        "--grace-seconds",
        help="on SIGTERM or Ctrl-C, how long running steps may take to finish (and have their "
        "outcomes recorded) before they are cancelled; a second signal exits at once",
    ),
]
app_cli.add_typer(definitions_cli, name="definitions")
app_cli.add_typer(keys_cli, name="keys")
app_cli.add_typer(schedules_cli, name="schedules")
app_cli.add_typer(events_cli, name="events")
app_cli.add_typer(subscriptions_cli, name="subscriptions")
AppArgument = Annotated[
    str, typer.Argument(metavar="APP", help="MODULE, MODULE:NAME or FILE.py holding a legato.App")
]
HttpOption = Annotated[
    str,
    typer.Option(
        "--http",
        envvar="LEGATO_HTTP",
        help="serve the HTTP API (and its docs at /docs) on HOST:PORT (port 0: any free one, "
        "named in the log; 'off': none); off loopback every request needs an API key "
        "(legato keys create)",
    ),
]
NoHttpOption = Annotated[bool, typer.Option("--no-http", help="do not serve the HTTP API")]
RequireKeysOption = Annotated[
    bool,
    typer.Option(
        "--require-keys",
        help="every API request needs 'Authorization: Bearer KEY' even on loopback (always so "
        "off loopback); make keys with legato keys create",
    ),
]


def _http(bind: str, off: bool, require_keys: bool = False) -> ApiSettings | None:
    if off or bind.strip().lower() in ("off", "none", ""):  # LEGATO_HTTP=off: as --no-http
        return None
    try:
        host, port = parse_bind(bind)
    except ValueError as exc:
        raise LegatoError(str(exc)) from None
    return ApiSettings(host=host, port=port, require_keys=require_keys)


DEFAULT_BIND = f"{DEFAULT_HOST}:{DEFAULT_PORT}"
EVENT_SOURCES_VARIABLE = "LEGATO_EVENT_SOURCES"
EventSourceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--event-source",
        help="consume events from a broker (repeatable): nats://HOST:PORT?stream=S&subjects="
        "events.>&durable=D, redis://HOST:PORT/DB?stream=S&group=G or amqp://USER:PASS@HOST:"
        f"PORT/?queue=Q; default: {EVENT_SOURCES_VARIABLE} (comma-separated)",
    ),
]


def _event_sources(app: App, given: list[str] | None) -> None:
    """``--event-source`` URLs, else ``LEGATO_EVENT_SOURCES``'s, added to the app's own."""
    urls = given or [u.strip() for u in os.environ.get(EVENT_SOURCES_VARIABLE, "").split(",")]
    app.event_sources.extend(u for u in urls if u)


@app_cli.command()
def dev(
    app_module: AppArgument,
    db: DbOption = None,
    start: Annotated[str | None, typer.Option(help="start this workflow once running")] = None,
    input: Annotated[str, typer.Option(help="JSON list of arguments for --start")] = "[]",
    example: Annotated[bool, typer.Option(help="start the app module's EXAMPLE execution")] = False,
    worker: Annotated[bool, typer.Option(help="run steps in this process too")] = True,
    concurrency: Annotated[int, typer.Option(help="steps run at once")] = 100,
    grace_seconds: GraceOption = 30.0,
    http: HttpOption = DEFAULT_BIND,
    no_http: NoHttpOption = False,
    require_keys: RequireKeysOption = False,
    event_source: EventSourceOption = None,
    verbose: VerboseOption = 0,
    log_format: LogFormatOption = None,
) -> None:
    """Run the orchestrator and a worker in one process (SQLite by default), and the HTTP API."""
    setup_logging(verbose, log_format, serving=True)

    async def main() -> None:
        app = load_app(app_module)
        app.configure(
            url=database_url(db, app.url), concurrency=concurrency, grace_seconds=grace_seconds
        )
        _event_sources(app, event_source)
        to_start: tuple[str, list[Any]] | None = None
        if start:
            to_start = (start, _json_list(input))
        elif example:
            spec = getattr(load_module(app_module), "EXAMPLE", None)
            if spec is None:
                raise LegatoError(f"module {app_module!r} defines no EXAMPLE = (workflow, [args])")
            to_start = (spec[0], list(spec[1]))
        names = sorted({f"{n} v{v}" for n, v in app.registry.workflows})
        console.print(Text.assemble(("Legato dev", "bold"), " on ", (app.url, "cyan")))
        steps = ", ".join(sorted(app.registry.steps)) or "none"
        console.print(Text(f"workflows: {', '.join(names) or 'none'}; steps: {steps}"))
        api = _http(http, no_http, require_keys)
        console.print("press Ctrl-C to stop")

        async def on_ready(address: str | None) -> None:
            if address is not None:  # the web UI is served at / of the API
                console.print(Text(f"UI: {address}/"), soft_wrap=True)
            if to_start is None:
                return
            name, args = to_start
            handle = await app.start(name, *args)
            console.print(Text.assemble("started execution ", (handle.id, "bold"), f" of {name}"))
            asyncio.get_running_loop().create_task(_report(app, handle.id))

        await serve_until_stopped(app, orchestrate=True, work=worker, on_ready=on_ready, http=api)

    run_command(main)


async def _report(app: App, execution_id: str) -> None:
    handle = app.get_handle(execution_id)
    try:
        result = await _waiting(app, execution_id)
        text = codec.dumps(result, "result")
        said = Text.assemble("execution ", (execution_id, "bold"), " ", ("COMPLETED", "green"))
        console.print(Text.assemble(said, f": {text}"), soft_wrap=True)
    except LegatoError as exc:  # Text: an error's [brackets] are its own, not markup
        said = Text.assemble("execution ", (execution_id, "bold"), " ", ("did not complete", "red"))
        console.print(Text.assemble(said, f": {exc}"), soft_wrap=True)
    status = await handle.status()
    output = (await handle.status_row()).output if status.status == Status.COMPLETED else None
    console.print(execution_table(status, output))


PROGRESS_EVERY = 0.5  # seconds between two looks at an execution `dev --start` waits for


async def _waiting(app: App, execution_id: str) -> Any:
    """Its result, with a progress line meanwhile: on a terminal one line updated in place
    (status, current step, time waited); otherwise a line each time the status or step
    changes."""
    handle = app.get_handle(execution_id)
    result = asyncio.ensure_future(handle.result())
    began = time.monotonic()
    last = ""
    try:
        with console.status("") if console.is_terminal else nullcontext() as live:
            while not result.done():
                st = await handle.status()
                if st.status not in (Status.PENDING, Status.RUNNING):
                    break
                step = f", at step {st.current_step}" if st.current_step else ""
                line = f"waiting for {execution_id}: {st.status.value}{step}"
                if live is not None:
                    waited = span(int((time.monotonic() - began) * 1000))
                    live.update(Text(f"{line} ({waited})"))
                elif line != last:
                    console.print(Text(line), soft_wrap=True)
                last = line
                await asyncio.wait({result}, timeout=PROGRESS_EVERY)
        return await result
    finally:
        result.cancel()  # a look at its status failed: the wait ends with it


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
    new_version: Annotated[
        bool,
        typer.Option(
            "--new-version",
            help="the name is stored with other content: store the file as its next version",
        ),
    ] = False,
    id: Annotated[str | None, typer.Option(help="execution id (default: a new one)")] = None,
    db: DbOption = None,
    timeout: Annotated[float | None, typer.Option(help="seconds to wait at most")] = None,
    verbose: VerboseOption = 0,
    log_format: LogFormatOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    mock_config: Annotated[
        Path | None,
        typer.Option(
            "--mock-config",
            metavar="FILE",
            help="Step Functions Local's mock configuration (MockConfigFile.json): the test "
            "case's Task states answer from it and call nothing; runs it here, as --wait",
        ),
    ] = None,
    test_case: Annotated[
        str | None,
        typer.Option(
            "--test-case",
            metavar="NAME",
            help="the test case of --mock-config to run (alone: of the --app's App.use_mocks)",
        ),
    ] = None,
) -> None:
    """Run a state machine: always the file's content, stored as a definition version (the
    version that has this content, or the first of a new name; a name stored with other
    content is refused unless --name or --new-version). With --wait, this process runs it to
    the end and prints its output (or its error and cause, exit code 1); without, it records
    the execution for the engine that serves the database and prints its id. With --server,
    the file is pushed to that server and run there (--wait awaits it). With --mock-config
    and --test-case, the test case's mocked Task states call nothing (no AWS needed)."""
    setup_logging(verbose, log_format)
    machine = name or name_of(file)

    async def main() -> None:
        nonlocal machine, wait
        mocked = check_mock_options(mock_config, test_case, server)
        if server:
            if db or app_module:
                raise LegatoError("with --server the server runs it: --db and --app do not apply")
            value = json_value(input, "--input")
            await run_on_server(file, machine, value, execution_id=id, wait=wait,
                                timeout=timeout, server=server, api_key=api_key,
                                new_version=new_version)  # fmt: skip
            return

        from legato.adapters.aws.catalog import sdk_catalog
        from legato.engine.statemachine import read_definition

        definition = read_definition(file, sdk_catalog())  # checked before anything is written
        value = json_value(input, "--input")
        app = load_app(app_module) if app_module else App()
        app.configure(url=database_url(db, app.url))
        if mocked:
            assert test_case is not None
            machine = use_mocks(app, definition, name, name_of(file), mock_config, test_case)
            wait = True  # the mocks are this process's: it runs the execution
        try:
            version = await version_to_run(app, machine, definition, file, new_version)
            if not wait:
                handle = await app.start(machine, value, id=id, version=version)
                console.print(handle.id)
                return
            await app.shutdown()  # the client's store: the engine opens its own
            await app.start_engine()
            handle = await app.start(machine, value, id=id, version=version)
            await print_result(handle.id, handle.result(timeout=timeout))
        finally:
            await app.shutdown()

    run_command(main)


app_cli.command("start")(start_cmd)


@app_cli.command()
def server(
    app_module: AppArgument,
    db: DbOption = None,
    lease_seconds: Annotated[
        float | None, typer.Option(help="partition and task lease (default: the app's)")
    ] = None,
    grace_seconds: GraceOption = 30.0,
    http: HttpOption = DEFAULT_BIND,
    no_http: NoHttpOption = False,
    require_keys: RequireKeysOption = False,
    event_source: EventSourceOption = None,
    verbose: VerboseOption = 0,
    log_format: LogFormatOption = None,
) -> None:
    """Run the orchestrator role: decide the executions of the partitions this replica leases,
    and serve the HTTP API, and consume the event sources. Run as many as you like against one
    database; they share the partitions (and the sources' consumers)."""
    setup_logging(verbose, log_format, serving=True)

    async def main() -> None:
        app = load_app(app_module)
        app.configure(url=database_url(db, app.url), grace_seconds=grace_seconds)
        if lease_seconds is not None:
            app.configure(lease_seconds=lease_seconds)
        _event_sources(app, event_source)
        api = _http(http, no_http, require_keys)
        log.info("Legato server on %s", app.url, extra={"event": "server.starting"})

        async def on_ready(address: str | None) -> None:
            if address is not None:  # the web UI is served at / of the API
                log.info("web UI at %s/", address, extra={"event": "server.ui", "url": address})

        await serve_until_stopped(app, orchestrate=True, work=False, http=api, on_ready=on_ready)

    run_command(main)


@app_cli.command("worker")
def worker_cmd(
    app_module: AppArgument,
    db: DbOption = None,
    concurrency: Annotated[int, typer.Option(help="steps run at once")] = 100,
    queue: Annotated[list[str] | None, typer.Option(help="queues to serve (default: all)")] = None,
    grace_seconds: GraceOption = 30.0,
    server: Annotated[
        str | None,
        typer.Option(
            envvar="LEGATO_SERVER",
            help="a Legato server's URL (http://HOST:PORT): run its steps through its HTTP API, "
            "with no database access (instead of --db)",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(envvar="LEGATO_API_KEY", help="the API key for --server, if it needs one"),
    ] = None,
    lease_seconds: Annotated[
        float | None, typer.Option(help="task lease (default: the app's)")
    ] = None,
    verbose: VerboseOption = 0,
    log_format: LogFormatOption = None,
) -> None:
    """Run the app's steps: claim tasks from the database (or, with --server, from a Legato
    server over HTTP), run them, record the outcomes. It claims only the steps the app module
    registers (old and new workers can run side by side during a deploy)."""
    setup_logging(verbose, log_format, serving=True)

    async def main() -> None:
        app = load_app(app_module)
        app.configure(concurrency=concurrency, grace_seconds=grace_seconds)
        if lease_seconds is not None:
            app.configure(lease_seconds=lease_seconds)
        if server:
            if db:
                raise LegatoError("give --db or --server, not both")
            log.info("Legato remote worker for %s, concurrency %d", server, concurrency,
                     extra={"event": "worker.starting", "server": server})  # fmt: skip
            await serve_remote_until_stopped(app, server, api_key=api_key, queues=queue or None)
            return
        app.configure(url=database_url(db, app.url))
        log.info("Legato worker on %s, concurrency %d", app.url, concurrency,
                 extra={"event": "worker.starting"})  # fmt: skip
        await serve_until_stopped(app, orchestrate=False, work=True, queues=queue or None)

    run_command(main)


@app_cli.command()
def migrate(db: DbOption = None, app_module: AppOption = None) -> None:
    """Bring the database schema up to date, creating the database if it is named (legato dev
    and legato server do this at start-up). The database is --db, else $LEGATO_DB, else the
    --app's; with none of them, the default file if it exists."""

    async def main() -> None:
        named = db or os.environ.get("LEGATO_DB") or app_module
        url = database_url(db, load_app(app_module).url if app_module else None)
        if not named:
            url = locate(None)  # the default: migrated if it is there, never made unasked
        store = open_store(url)
        try:
            applied = await store.migrate()
        finally:
            await store.close()
        where = url.removeprefix("sqlite:///")
        if applied:
            said = f"{where}: applied migrations {', '.join(map(str, applied))}"
        else:
            said = f"{where}: the schema is up to date"
        console.print(Text(said), soft_wrap=True)

    run_command(main)


def main() -> None:
    app_cli(prog_name="legato")
