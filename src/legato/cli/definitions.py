"""``legato definitions``: check state machine definitions, store them in the database as
versions (``push``), read them back (``list``, ``show``) and draw them offline (``graph``).
Pushing the same content again changes nothing; a version never changes once stored."""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from legato.adapters.aws.catalog import sdk_catalog
from legato.cli.backend import ApiKeyOption, ServerOption, open_backend
from legato.cli.common import DbOption, JsonOption, console, fail, run_command
from legato.cli.help import HelpGroup
from legato.cli.output import make_console
from legato.client import Client
from legato.core import codec
from legato.core.asl.graph import graph
from legato.core.asl.graph_layout import layout
from legato.core.asl.graph_svg import to_svg
from legato.core.asl.graph_text import to_dot, to_mermaid
from legato.core.asl.integrations_used import integrations_used
from legato.core.asl.validate import Problem, count_states, validate
from legato.engine.asl_files import load_definition
from legato.errors import InvalidDefinitionError

definitions_cli = typer.Typer(
    cls=HelpGroup,
    help="Check state machine definitions, store them as versions, read them back.",
    no_args_is_help=True,
)
NameOption = Annotated[
    str | None, typer.Option("--name", help="the definition's name (default: the file's)")
]
VersionOption = Annotated[str | None, typer.Option("--version", help="a version (default: latest)")]


def name_of(file: Path) -> str:
    """A file's definition name: its name up to the first dot (``order.asl.yaml``: order)."""
    return file.name.split(".")[0]


_out = make_console(soft_wrap=True, highlight=False)


@definitions_cli.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="a definition in JSON or YAML")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Check a definition against the Amazon States Language rules; one line per problem.
    With --json it also lists the service integrations it uses (AWS SDK, optimized, HTTP,
    item readers and writers), so you know what to configure or mock."""
    states = 0
    definition: object = None
    if server:  # the server's validator (its Legato version's rules)
        problems, states = run_command(lambda: validate_on_server(file, server, api_key))
        with contextlib.suppress(InvalidDefinitionError):
            definition = load_definition(file)
    else:
        try:
            definition = load_definition(file)
        except InvalidDefinitionError as exc:
            problems = exc.problems
        else:
            problems = validate(definition, sdk_catalog())
            states = count_states(definition)
    if as_json:
        report = {
            "valid": not problems,
            "problems": [_problem_json(p) for p in problems],
            "integrations": integrations_used(definition),
        }
        print(codec.dumps(report, "report", indent=2))
    elif problems:
        for problem in problems:
            _out.print(Text.assemble((problem.path, "bold red"), ": ", problem.rule))
    else:
        _out.print(
            Text.assemble((str(file), "bold"), ": ", ("valid", "green"), f" ({states} states)")
        )
    if problems:
        raise typer.Exit(1)


async def validate_on_server(
    file: Path, server: str, api_key: str | None
) -> tuple[list[Problem], int]:
    async with Client(server, api_key=api_key) as client:
        report = await client.validate_definition(file)
    found = [Problem(str(p["path"]), str(p["message"])) for p in report.get("problems", [])]
    return found, int(report.get("states") or 0)


def _problem_json(problem: Problem) -> dict[str, str]:
    return {"path": problem.path, "rule": problem.rule}


@definitions_cli.command("push")
def push_cmd(
    file: Annotated[Path, typer.Argument(help="a definition in JSON or YAML")],
    name: NameOption = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="store it as this version (default: the version with this content, else 1 + "
            "the highest)",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Store a definition (validated first) as a version; prints its name, version and hash,
    and "unchanged" when that content is that version already."""

    async def main() -> None:
        definition = load_definition(file)
        async with open_backend(db, server, api_key, creating=True) as backend:
            put = await backend.push_definition(name or name_of(file), definition, version)
        if as_json:
            print(codec.dumps(put, "definition", indent=2))
            return
        said = "stored" if put["created"] else "unchanged"
        console.print(
            Text.assemble((put["name"], "bold"), f" version {put['version']} ",
                          f"sha256:{put['content_hash']} ", (said, "green")),
            highlight=False, soft_wrap=True,
        )  # fmt: skip

    run_command(main)


@definitions_cli.command("list")
def list_cmd(
    db: DbOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """The stored definitions: each name with its versions."""

    async def main() -> None:
        async with open_backend(db, server, api_key) as backend:
            found = await backend.list_definitions()
        if as_json:
            print(codec.dumps({"items": found}, "definitions", indent=2))
            return
        table = Table(title="Definitions")
        for col in ("name", "latest", "versions", "first stored at"):
            table.add_column(col)
        for summary in found:
            table.add_row(
                summary["name"],
                summary["latest_version"],
                ", ".join(summary["versions"]),
                _when(summary["created_at"]),
            )
        console.print(table)

    run_command(main)


@definitions_cli.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="the definition's name")],
    version: VersionOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """A stored definition (its latest version, or --version): its version and hash, then its
    JSON."""

    async def main() -> None:
        async with open_backend(db, server, api_key) as backend:
            stored = await backend.get_definition(name, version)
        if as_json:
            print(codec.dumps(stored, "definition", indent=2))
            return
        console.print(
            Text.assemble((stored["name"], "bold"), f" version {stored['version']} ",
                          f"sha256:{stored['content_hash']} stored {_when(stored['created_at'])}"),
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        print(codec.dumps(stored["definition"], "definition", indent=2))

    run_command(main)


def _when(rfc3339: str) -> str:
    """An API time as the tables show times."""
    return datetime.fromisoformat(rfc3339).strftime("%Y-%m-%d %H:%M:%S UTC")


class GraphFormat(StrEnum):
    svg = "svg"
    mermaid = "mermaid"
    dot = "dot"


@definitions_cli.command("graph")
def graph_cmd(
    file: Annotated[Path, typer.Argument(help="a definition in JSON or YAML")],
    format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="svg, mermaid or dot (Graphviz)")
    ] = GraphFormat.svg,
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="write it to this file (default: stdout)")
    ] = None,
) -> None:
    """Draw a definition offline: an SVG that opens in any browser, Mermaid (for Markdown) or
    Graphviz dot. Parallel and Map states are drawn as groups, Choice and Catch edges labelled."""
    try:
        definition = load_definition(file)
    except InvalidDefinitionError as exc:
        fail(_first_problem(exc.problems, file))
    problems = validate(definition)
    if problems:
        fail(_first_problem(problems, file))
    g = graph(definition)
    title = name_of(file)
    if format is GraphFormat.svg:
        text = to_svg(layout(g), title=title)
    elif format is GraphFormat.mermaid:
        text = to_mermaid(g, title=title)
    else:
        text = to_dot(g, title=title)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    _out.print(Text.assemble("wrote ", (str(out), "bold"), f" ({format.value})"))


def _first_problem(problems: list[Problem], file: Path) -> str:
    """One line: the first problem with its JSON path (a file that cannot be read names
    itself), and how many more ``legato definitions validate`` would list."""
    first = problems[0]
    where = first.rule if first.path == "$" and str(file) in first.rule else (
        f"{file}: {first.path}: {first.rule}"
    )  # fmt: skip
    more = len(problems) - 1
    if more:
        where += f" (and {more} more: legato definitions validate {file})"
    return where
