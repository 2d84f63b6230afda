"""The one JSON codec: pydantic-core encodes (models, dataclasses, datetimes) and validates back.

Everything the engine, the stores, the CLI and exported histories write goes through it. (The
ASL interpreter formats JSON as Step Functions does where the spec fixes the text, e.g.
``States.JsonToString``, and parses definitions with line and column in its errors.)

Values cross every boundary as JSON text so that a live run and a replay see exactly the same
values, validated against the receiving function's annotations.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, get_type_hints

import pydantic_core
from pydantic import TypeAdapter, ValidationError

from legato.errors import SerializationError

_ANY_ADAPTER: TypeAdapter[Any] = TypeAdapter(Any)


def dumps(value: object, what: str, indent: int | None = None) -> str:
    """Encode ``value``; ``what`` names the workflow or step for the error message."""
    try:
        return pydantic_core.to_json(value, indent=indent).decode()
    except pydantic_core.PydanticSerializationError as exc:
        raise SerializationError(
            f"{what}: value of type {type(value).__name__} is not JSON-serialisable ({exc})"
        ) from None


def loads(text: str | None) -> Any:
    """Decode JSON text Legato wrote (None stays None); raises ``ValueError`` on bad text."""
    return None if text is None else pydantic_core.from_json(text)


class Signature:
    """Type adapters for one function's parameters and return value, built once."""

    def __init__(self, fn: Callable[..., Any], skip_first: bool = False) -> None:
        self.fn = fn
        try:
            hints = get_type_hints(fn)
        except Exception:  # unresolvable forward references: validate nothing rather than fail
            hints = {}
        params = list(inspect.signature(fn).parameters.values())
        if skip_first and params:
            params = params[1:]
        self.params = params
        self.adapters: dict[str, TypeAdapter[Any]] = {
            p.name: TypeAdapter(hints[p.name]) for p in params if p.name in hints
        }
        ret = hints.get("return")
        self.returns: TypeAdapter[Any] = _ANY_ADAPTER if ret is None else TypeAdapter(ret)
        self.has_return_type = ret is not None
        self._return_name = _type_name(ret)
        self._checks_return = ret is not None and ret is not Any and ret is not object

    def encode_args(self, args: tuple[Any, ...], kwargs: dict[str, Any], what: str) -> str:
        try:
            return pydantic_core.to_json([list(args), kwargs]).decode()
        except pydantic_core.PydanticSerializationError:
            pass
        for name, value in [*enumerate(args), *kwargs.items()]:
            try:
                pydantic_core.to_json(value)
            except pydantic_core.PydanticSerializationError:
                raise SerializationError(
                    f"{what}: argument {name!r} of type {type(value).__name__} "
                    "is not JSON-serialisable"
                ) from None
        raise SerializationError(f"{what}: arguments are not JSON-serialisable")

    def decode_args(self, text: str) -> tuple[list[Any], dict[str, Any]]:
        args, kwargs, _ = self.decode_call(text)
        return args, kwargs

    def decode_call(self, text: str) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
        """Arguments, and the call's own options (``[args, kwargs, options]``: per-call
        timeouts a state machine sets on a Task state) or ``{}``."""
        raw = pydantic_core.from_json(text)
        raw_args, raw_kwargs = raw[0], raw[1]
        options: dict[str, Any] = raw[2] if len(raw) > 2 else {}
        args = [
            self._validate(self.params[i].name, v) if i < len(self.params) else v
            for i, v in enumerate(raw_args)
        ]
        kwargs = {k: self._validate(k, v) for k, v in raw_kwargs.items()}
        return args, kwargs, options

    def _validate(self, name: str, value: Any) -> Any:
        adapter = self.adapters.get(name)
        return value if adapter is None else adapter.validate_python(value)

    def encode_result(self, value: Any, what: str) -> str:
        """``value`` as JSON, checked against the return annotation the way ``decode_result``
        will read it back: a value that would not decode fails here, where it was returned,
        with ``what`` (the workflow) and the annotated type in the error."""
        text = dumps(value, what)
        if self._checks_return:
            try:
                self.returns.validate_json(text)
            except ValidationError as exc:
                raise SerializationError(
                    f"{what}: value of type {type(value).__name__} does not match the return "
                    f"annotation {self._return_name} ({_first_problem(exc)})"
                ) from None
        return text

    def decode_result(self, text: str) -> Any:
        if not self.has_return_type:
            return pydantic_core.from_json(text)
        return self.returns.validate_json(text)


def _type_name(tp: Any) -> str:
    """``int``, ``list[Item]``, ``Receipt | None``: an annotation as it is written in code
    (without the module paths ``repr`` puts before each name)."""
    if isinstance(tp, type) and not getattr(tp, "__args__", None):
        return tp.__qualname__
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", repr(tp))


def _first_problem(exc: ValidationError) -> str:
    """A validation error's first problem on one line: where, and what the rule said."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    more = exc.error_count() - 1
    tail = f"; and {more} more" if more else ""
    return f"{where + ': ' if where else ''}{first['msg']}{tail}"
