"""A start request's input, checked before anything is written, then started.

Which schema: a workflow the server's own registry has is checked with its pydantic signature
(``WorkflowDef.arg_schema``); one only an engine elsewhere serves, with the JSON Schema that
engine recorded (``workflow_types``), then recorded PENDING for it; a state machine takes any
JSON ``input``. Anything else goes to ``App.start``, which knows the definitions stored in the
database (or says the name is not registered).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jsonschema

from legato.api.problems import Problem
from legato.client import App
from legato.client.handle import Handle
from legato.core import codec, started_by
from legato.core.arg_schema import ArgProblem
from legato.ports.executions import WorkflowType


def _invalid(workflow: str, problems: list[ArgProblem]) -> Problem:
    said = "; ".join(f"{p.path}: {p.message}" for p in problems)
    return Problem(
        422,
        "invalid-input",
        f"the input does not fit workflow {workflow!r}: {said}",
        errors=[{"path": p.path, "message": p.message} for p in problems],
    )


def _call(
    args: list[Any] | None, kwargs: dict[str, Any] | None, input: Any, has_input: bool
) -> tuple[list[Any], dict[str, Any]]:
    """A code workflow's call: ``args``/``kwargs``, or ``input`` as its one argument."""
    if has_input and (args or kwargs):
        raise _invalid_request("give either input or args/kwargs, not both")
    if has_input:
        return [input], {}
    return list(args or []), dict(kwargs or {})


def _invalid_request(message: str) -> Problem:
    return Problem(422, "invalid-input", message, errors=[{"path": "$", "message": message}])


async def resolve_start(
    app: App,
    workflow: str,
    version: str | None,
    args: list[Any] | None,
    kwargs: dict[str, Any] | None,
    input: Any,
    has_input: bool,
    *,
    execution_id: str | None,
    labels: dict[str, str] | None,
    timeout: float | timedelta | None,
) -> Handle[Any]:
    wf = app.registry.registered(workflow, version)
    options: dict[str, Any] = {"id": execution_id, "labels": labels, "timeout": timeout,
                               "started_by": started_by.API}  # fmt: skip
    if wf is not None and wf.kind == "state_machine":
        if args or kwargs:
            raise _invalid_request("a state machine takes input, not args or kwargs")
        return await app.start_call(wf, [input], {}, **options)
    if wf is not None:
        call_args, call_kwargs = _call(args, kwargs, input, has_input)
        problems = wf.arg_schema.check(call_args, call_kwargs)
        if problems:
            raise _invalid(workflow, problems)
        return await app.start_call(wf, call_args, call_kwargs, **options)
    served = await _served(app, workflow, version)
    if served is not None and served.kind == "code":
        call_args, call_kwargs = _call(args, kwargs, input, has_input)
        problems = check_json_schema(codec.loads(served.args_schema), call_args, call_kwargs)
        if problems:
            raise _invalid(workflow, problems)
        text = codec.dumps([call_args, call_kwargs], f"input of workflow {workflow!r}")
        return await app.start_served(workflow, served.version, text, **options)
    # a state machine stored in the database (or nothing: App.start says it is not registered)
    if args or kwargs:
        raise _invalid_request("a state machine takes input, not args or kwargs")
    stored = await app.workflow_def(workflow, version)
    return await app.start_call(stored, [input], {}, **options)


async def _served(app: App, workflow: str, version: str | None) -> WorkflowType | None:
    store = await app.store_ready()
    found = [t for t in await store.workflow_types() if t.name == workflow]
    if version is not None:
        found = [t for t in found if t.version == version]
    return max(found, key=lambda t: t.seen_at) if found else None


def check_json_schema(
    schema: dict[str, Any], args: list[Any], kwargs: dict[str, Any]
) -> list[ArgProblem]:
    """The call against an engine's recorded argument schema (an object of named
    parameters, in their order: positional arguments take the first names)."""
    names = list((schema.get("properties") or {}).keys())
    where: dict[str, str] = {}
    named: dict[str, Any] = {}
    problems: list[ArgProblem] = []
    for i, value in enumerate(args):
        if i >= len(names):
            problems.append(
                ArgProblem(f"$.args[{i}]", f"takes at most {len(names)} positional argument(s)")
            )
            continue
        named[names[i]] = value
        where[names[i]] = f"$.args[{i}]"
    for key, value in kwargs.items():
        named[key] = value
        where.setdefault(key, f"$.kwargs.{key}")
    if problems:
        return problems
    validator = jsonschema.Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(named), key=lambda e: list(e.absolute_path)):
        path = [str(p) for p in error.absolute_path]
        if not path and error.validator == "required":  # name the field, as pydantic does
            for name in error.validator_value:
                if name not in named:
                    problems.append(
                        ArgProblem(f"$.kwargs.{name}", f"missing required argument {name!r}")
                    )
        elif not path and error.validator == "additionalProperties":
            for name in named:
                if name not in names:
                    problems.append(ArgProblem(where[name], f"unexpected argument {name!r}"))
        elif path:
            base = where.get(path[0], f"$.kwargs.{path[0]}")
            rest = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path[1:])
            problems.append(ArgProblem(base + rest, error.message))
        else:
            problems.append(ArgProblem("$.kwargs", error.message))
    return problems
