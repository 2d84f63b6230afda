"""``legato definitions``: check state machine definitions before they are registered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from legato.cli.backend import ApiKeyOption, ServerOption
from legato.cli.common import run_command
from legato.client import Client
from legato.core import codec
from legato.core.asl.validate import Problem, count_states, validate
from legato.engine.asl_files import load_definition
from legato.errors import InvalidDefinitionError

definitions_cli = typer.Typer(help="Check state machine definitions.", no_args_is_help=True)

_out = Console(soft_wrap=True, highlight=False)


@definitions_cli.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="a definition in JSON or YAML")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Check a definition against the Amazon States Language rules; one line per problem."""
    states = 0
    if server:  # the server's validator (its Legato version's rules)
        problems, states = run_command(lambda: validate_on_server(file, server, api_key))
    else:
        try:
            definition = load_definition(file)
        except InvalidDefinitionError as exc:
            problems = exc.problems
        else:
            problems = validate(definition)
            states = count_states(definition)
    if as_json:
        report = {"valid": not problems, "problems": [_problem_json(p) for p in problems]}
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
