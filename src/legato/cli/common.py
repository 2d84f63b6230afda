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
from rich.text import Text

from legato.cli import logs
from legato.client import DEFAULT_URL, open_store
from legato.core import codec
from legato.errors import ConfigurationError, LegatoError
from legato.ports.store import Store

console = Console()
err_console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="database URL (default: $LEGATO_DB, else the app's, else " + DEFAULT_URL + ")",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def database_url(db: str | None, app_url: str | None = None) -> str:
    """``--db``, else ``$LEGATO_DB``, else the app's URL (commands given an app), else the
    default file."""
    return db or os.environ.get("LEGATO_DB") or app_url or DEFAULT_URL


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
        err_console.print(f"[red]{exc.status}[/] {execution_id}")
        err_console.print(f"error: {exc.error_type}")
        err_console.print(f"cause: {exc.message}")
        raise typer.Exit(1) from None
    console.print_json(codec.dumps(output, "output"))
