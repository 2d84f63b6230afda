"""What every ``legato`` command shares: the consoles, the ``--db`` and ``--json`` options, which
database a command uses, and how a command fails: one red line and exit code 1, never a
traceback (an operator reads the line; a script reads the exit code)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.json import JSON
from rich.text import Text

from legato.cli import logs
from legato.cli.loading import load_app
from legato.cli.output import make_console
from legato.client import DEFAULT_URL, open_store
from legato.core import codec
from legato.errors import ConfigurationError, LegatoError
from legato.ports.store import Store

console = make_console()
err_console = Console(stderr=True, soft_wrap=True)  # logs too: a terminal's width
T = TypeVar("T")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="database URL (default: $LEGATO_DB, else the app's, else " + DEFAULT_URL + ")",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]


AppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        metavar="APP",
        help="MODULE, MODULE:NAME or FILE.py whose legato.App names the database (when neither "
        "--db nor $LEGATO_DB says)",
    ),
]


def database_url(db: str | None, app_url: str | None = None) -> str:
    """``--db``, else ``$LEGATO_DB``, else the app's URL (commands given an app), else the
    default file."""
    return db or os.environ.get("LEGATO_DB") or app_url or DEFAULT_URL


def locate(db: str | None, app_module: str | None = None, *, app_url: str | None = None) -> str:
    """The database a command uses (``database_url``; ``--app``'s URL), which must exist: a
    SQLite file that is not there is one error line saying where the URL came from and how to
    name another, never a new empty database."""
    if app_module is not None and app_url is None and not db and not os.environ.get("LEGATO_DB"):
        app_url = load_app(app_module).url
    url = database_url(db, app_url)
    if not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists():
        return url
    where = url.removeprefix("sqlite:///")
    if db:
        how = "(--db): check the path; legato migrate --db URL creates a database"
    elif os.environ.get("LEGATO_DB"):
        how = "($LEGATO_DB): check the path; legato migrate creates a database"
    elif app_url is not None:
        app = app_module or "APP"
        how = f"(the app's): legato dev {app} or legato migrate --app {app} creates it"
    else:
        how = (
            "(the default): give --db URL, set LEGATO_DB=URL, or --app MODULE to use your "
            "app's database"
        )
    raise ConfigurationError(f"no database at {where} {how}")


def setup_logging(verbose: int, log_format: str | None = None, *, serving: bool = False) -> None:
    """``serving``: a long-running command logs at INFO, and always its lifecycle (how it
    stops); see ``legato.cli.logs``."""
    logs.configure(verbose, log_format, serving=serving)


def run_command(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Runs a command; Legato errors become one red line and exit code 1, never a traceback."""
    try:
        return asyncio.run(main())
    except LegatoError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def fail(message: str) -> NoReturn:
    """Print ``message`` as the command's one red error line and exit with code 1. The message
    is plain text: ids and JSON in it may hold brackets that are not markup."""
    err_console.print(Text.assemble(("error:", "red"), " ", message), highlight=False)
    raise typer.Exit(1) from None


@contextlib.asynccontextmanager
async def reading(db: str | None) -> AsyncIterator[Store]:
    """A read-only view of the database: inspecting never writes (works on a read-only file)."""
    store = open_store(database_url(db))
    await store.open_reader()
    try:
        yield store
    finally:
        await store.close_reader()


def json_value(text: str, option: str) -> Any:
    """An option's JSON text, or ``@path`` to a file holding it."""
    source = option
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text()
        except OSError as exc:
            what = option.lstrip("-")
            raise ConfigurationError(f"cannot read {what} file {source!r}: {exc}") from None
    try:
        return codec.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{source} is not valid JSON: {exc}") from None


async def print_result(execution_id: str, result: Coroutine[Any, Any, Any]) -> None:
    """``legato run --wait``: the output as JSON, or the status, error and cause on stderr and
    exit code 1 (a local run and one through a server print alike)."""
    from legato.errors import ExecutionFailedError

    try:
        output = await result
    except ExecutionFailedError as exc:
        err_console.print(Text.assemble((str(exc.status), "red"), f" {execution_id}"))
        err_console.print(Text(f"error: {exc.error_type}"))  # Text: a message is not markup
        err_console.print(Text(f"cause: {exc.message}"))
        raise typer.Exit(1) from None
    console.print(JSON(codec.dumps(output, "output")), soft_wrap=True)
