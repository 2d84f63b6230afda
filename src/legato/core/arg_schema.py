"""A workflow's arguments as one JSON object: its JSON Schema (from the annotations, through
pydantic) and a check of a call against it that names each field that is wrong.

The HTTP API lists the schema (``GET /v1/workflows``) and checks a start's ``args``/``kwargs``
against it before anything is written, so a bad input is a 422 naming the field rather than an
execution that fails at its first line. Parameters without an annotation take any JSON value.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from legato.core import codec
from legato.core.codec import Signature

_KINDS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
          inspect.Parameter.KEYWORD_ONLY)  # fmt: skip


class ArgProblem(NamedTuple):
    path: str  # a JSON path in the request: $.args[0], $.kwargs.order_id
    message: str


class ArgSchema:
    """The arguments of one workflow signature as a pydantic model, built once."""

    def __init__(self, signature: Signature, name: str) -> None:
        params = [p for p in signature.params if p.kind in _KINDS]
        self.params = params
        self.positional = [p.name for p in params if p.kind != inspect.Parameter.KEYWORD_ONLY]
        self.extra_args = any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in signature.params)
        self.extra_kwargs = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in signature.params)
        fields: dict[str, Any] = {}
        for p in params:
            adapter = signature.adapters.get(p.name)
            annotation: Any = Any if adapter is None else _annotation(signature.fn, p.name)
            default = ... if p.default is inspect.Parameter.empty else p.default
            fields[p.name] = (annotation, default)
        extra: Literal["allow", "forbid"] = "allow" if self.extra_kwargs else "forbid"
        config = ConfigDict(extra=extra, arbitrary_types_allowed=True)
        try:
            self.model: type[BaseModel] = create_model(
                _model_name(name), __config__=config, **fields
            )
        except Exception:  # a type pydantic cannot build: check presence only, never fail here
            loose: dict[str, Any] = {k: (Any, default) for k, (_, default) in fields.items()}
            self.model = create_model(_model_name(name), __config__=config, **loose)

    def json_schema(self) -> dict[str, Any]:
        try:
            schema: dict[str, Any] = self.model.model_json_schema()
        except Exception:  # a type pydantic cannot describe: say only that it is an object
            schema = {"type": "object", "properties": {p.name: {} for p in self.params}}
        return schema

    def json_schema_text(self) -> str:
        return codec.dumps(self.json_schema(), "arguments schema")

    def check(self, args: list[Any], kwargs: dict[str, Any]) -> list[ArgProblem]:
        """Problems of calling with ``args`` and ``kwargs`` (JSON values), each with the path
        of the request field it concerns; empty if the workflow accepts them."""
        problems: list[ArgProblem] = []
        named: dict[str, Any] = {}
        where: dict[str, str] = {}
        for i, value in enumerate(args):
            if i < len(self.positional):
                named[self.positional[i]] = value
                where[self.positional[i]] = f"$.args[{i}]"
            elif not self.extra_args:
                problems.append(
                    ArgProblem(
                        f"$.args[{i}]",
                        f"takes at most {len(self.positional)} positional argument(s)",
                    )
                )
        for key, value in kwargs.items():
            if key in named:
                problems.append(ArgProblem(f"$.kwargs.{key}", "given both in args and kwargs"))
                continue
            named[key] = value
            where[key] = f"$.kwargs.{key}"
        if problems:
            return problems
        try:
            self.model.model_validate(named)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [str(p) for p in error.get("loc", ())]
                head = loc[0] if loc else ""
                base = where.get(head, f"$.kwargs.{head}" if head else "$.kwargs")
                rest = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc[1:])
                message = str(error.get("msg", "invalid"))
                if error.get("type") == "missing":
                    message = f"missing required argument {head!r}"
                elif error.get("type") == "extra_forbidden":
                    message = f"unexpected argument {head!r}"
                problems.append(ArgProblem(base + rest, message))
        return problems


def _annotation(fn: Any, name: str) -> Any:
    from typing import get_type_hints

    try:
        return get_type_hints(fn).get(name, Any)
    except Exception:
        return Any


def _model_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name) or "workflow"
    return f"{cleaned}_args"
