"""``legato start``: record an execution for the engine that serves the database, as
``app.start`` does in a process without an engine, and print its id.

The workflow is named, so the app that registers it is needed (``--app``). The input is
checked against the workflow's parameters before anything is written: a wrong argument is one
line naming it, and the database is not touched.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import pydantic
import typer

from legato.cli.backend import ApiKeyOption, ServerOption, open_backend
from legato.cli.common import DbOption, console, json_value, run_command
from legato.cli.loading import load_app
from legato.client import App
from legato.engine.registry import WorkflowDef
from legato.errors import ConfigurationError, LegatoError

# Names App.start keeps for itself (``workflow``, ``id``, ``connection``): a workflow's keyword
# argument of the same name can only be passed positionally.
_START_OPTIONS = frozenset(
    p.name
    for p in inspect.signature(App.start).parameters.values()
    if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
)


def start(
    workflow: Annotated[str, typer.Argument(help="the registered workflow's name")],
    input: Annotated[
        str,
        typer.Option(
            help="JSON list of arguments, or JSON object of keyword arguments, or @FILE "
            "(a state machine's input is its one argument: '[{...}]')"
        ),
    ] = "[]",
    id: Annotated[
        str | None,
        typer.Option(help="execution id (default: a new one); the same again: the same one"),
    ] = None,
    app_module: Annotated[
        str | None,
        typer.Option("--app", help="module[:attribute] holding the legato.App (as for dev)"),
    ] = None,
    db: DbOption = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Start an execution and print its id.

    The execution is recorded for the engine that serves the database (legato dev, or legato
    server and worker) to run; this process runs nothing. With --server it is started through
    that server's API (which checks the input; --app is then optional)."""

    async def main() -> None:
        args, kwargs = arguments(json_value(input, "--input"))
        app = load_app(app_module) if app_module else None
        if app is not None:
            check_input(app.registry.workflow_named(workflow), args, kwargs)
        async with open_backend(db, server, api_key, app, creating=True) as backend:
            try:
                started = await backend.start(workflow, args, kwargs, id)
            except pydantic.ValidationError as exc:  # what check_input did not foresee
                raise LegatoError(
                    f"input of workflow {workflow!r} rejected: {_one_line(exc)}"
                ) from None
        console.print(started, highlight=False, soft_wrap=True)

    run_command(main)


def arguments(value: Any) -> tuple[list[Any], dict[str, Any]]:
    """``--input``: a JSON list is the positional arguments, an object the keyword ones."""
    if isinstance(value, list):
        return value, {}
    if isinstance(value, dict):
        taken = sorted(_START_OPTIONS & value.keys())
        if taken:
            raise ConfigurationError(
                f"--input: {', '.join(map(repr, taken))} cannot be passed by keyword from the "
                "command line; give the arguments as a JSON list"
            )
        return [], value
    kind = {str: "a string", bool: "true or false", type(None): "null"}.get(type(value), "a number")
    raise ConfigurationError(
        "--input must be a JSON list of arguments or a JSON object of keyword arguments, "
        f"not {kind}"
    )


def check_input(wf: WorkflowDef, args: list[Any], kwargs: dict[str, Any]) -> None:
    """The workflow must take these arguments, each valid for its annotation: the engine would
    otherwise fail the execution once it runs (or never accept it)."""
    rejected = f"input of workflow {wf.name!r} rejected"
    try:
        bound = inspect.signature(wf.fn).bind(None, *args, **kwargs)  # None: the context
    except TypeError as exc:
        raise LegatoError(f"{rejected}: {exc}") from None
    for name, value in list(bound.arguments.items())[1:]:
        adapter = wf.signature.adapters.get(name)
        if adapter is None or bound.signature.parameters[name].kind in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            continue
        try:
            adapter.validate_python(value)
        except pydantic.ValidationError as exc:
            raise LegatoError(f"{rejected}: argument {name!r}: {_one_line(exc)}") from None


def _one_line(exc: pydantic.ValidationError) -> str:
    """Pydantic's errors on one line: where in the value, and what is wrong there."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)
