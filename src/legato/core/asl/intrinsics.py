"""Intrinsic functions of JSONPath states: recognise, parse, check and evaluate a call.

Implements the ASL specification, "Intrinsic Functions", and the developer guide's "Intrinsic
functions for JSONPath states". The syntax lives in ``intrinsic_syntax``, the functions in
``intrinsic_functions``; this module ties them to Path evaluation:

* ``is_intrinsic(text)`` recognises ``States.Name(...)`` in a ``"field.$"`` value;
* ``parse(text)`` returns the ``Call`` AST or raises ``IntrinsicSyntaxError``;
* ``check(text)`` describes what the validator should reject (syntax, unknown function, wrong
  argument count, invalid Path argument), or returns None;
* ``evaluate(...)`` computes the value; a failure is ``StatesError(States.IntrinsicFailure)``,
  except a Path argument that selects nothing: ``States.Runtime``, as Step Functions reports it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from legato.core.asl.errors import StatesError
from legato.core.asl.intrinsic_functions import (
    FUNCTIONS,
    PLACEHOLDER,
    FormatPiece,
    arity_problem,
    fail,
    format_string,
)
from legato.core.asl.intrinsic_syntax import (
    Arg,
    Call,
    Constant,
    IntrinsicSyntaxError,
    PathArg,
    StringLiteral,
    is_intrinsic,
    parse,
)
from legato.core.asl.selection import path_problem, select
from legato.core.error_names import INTRINSIC_FAILURE, RUNTIME
from legato.core.events import JSON

__all__ = [
    "Arg",
    "Call",
    "Constant",
    "IntrinsicSyntaxError",
    "PathArg",
    "StringLiteral",
    "check",
    "evaluate",
    "is_intrinsic",
    "parse",
]


def _problems(call: Call) -> str | None:
    if call.name not in FUNCTIONS:
        return f"unknown intrinsic function {call.qualified_name} at position {call.position}"
    problem = arity_problem(call.name, len(call.args))
    if problem is not None:
        return f"{problem} at position {call.position}"
    for arg in call.args:
        if isinstance(arg, Call):
            problem = _problems(arg)
        elif isinstance(arg, PathArg):
            why = path_problem(arg.path)
            problem = (
                None
                if why is None
                else (f"invalid Path {arg.path!r} at position {arg.position}: {why}")
            )
        else:
            problem = None
        if problem is not None:
            return problem
    deep = call.args[2] if call.name == "JsonMerge" else None
    if isinstance(deep, Constant) and deep.value is True:
        return f"States.JsonMerge at position {call.position}: deep merging is not supported"
    return None


def check(text: str) -> str | None:
    """A description of what is wrong with an intrinsic function call, or None if it is valid.

    Checks the syntax (developer guide, "Intrinsic functions", including "Reserved characters"
    and the limit of 10 nested functions), that every function exists, takes that many
    arguments, and that Path arguments are valid Paths.
    """
    try:
        call = parse(text)
    except IntrinsicSyntaxError as exc:
        return f"invalid intrinsic function {text!r}: {exc}"
    return _problems(call)


def _format_pieces(template: Arg, value: str) -> list[FormatPiece]:
    """Split a States.Format template into text and ``{}`` placeholders.

    In a quoted template ``\\{`` and ``\\}`` are literal braces, not placeholders (developer
    guide, "Reserved characters in intrinsic functions"); a template read from a Path is taken
    as is.
    """
    raw = template.raw if isinstance(template, StringLiteral) else value
    escapes = isinstance(template, StringLiteral)
    pieces: list[FormatPiece] = []
    text: list[str] = []
    i = 0
    while i < len(raw):
        if escapes and raw[i] == "\\":
            text.append(raw[i + 1])
            i += 2
        elif raw.startswith("{}", i):
            pieces.append("".join(text))
            pieces.append(PLACEHOLDER)
            text = []
            i += 2
        else:
            text.append(raw[i])
            i += 1
    pieces.append("".join(text))
    return pieces


def _argument(
    call: Call,
    index: int,
    arg: Arg,
    data: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    rng: random.Random | None,
) -> JSON:
    if isinstance(arg, (Constant, StringLiteral)):
        return arg.value
    if isinstance(arg, PathArg):
        try:
            return select(arg.path, data, context, variables)
        except StatesError as exc:  # a Path that selects nothing: States.Runtime, as in AWS
            raise StatesError(
                RUNTIME, f"{call.qualified_name}: argument {index}: {exc.cause}"
            ) from None
    return _evaluate(arg, data, context, variables, rng)


def _evaluate(
    call: Call,
    data: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    rng: random.Random | None,
) -> JSON:
    name = call.qualified_name
    if call.name not in FUNCTIONS:
        raise fail(name, "unknown intrinsic function")
    problem = arity_problem(call.name, len(call.args))
    if problem is not None:
        raise fail(name, problem)
    args = [
        _argument(call, i, arg, data, context, variables, rng)
        for i, arg in enumerate(call.args, start=1)
    ]
    signature = FUNCTIONS[call.name]
    if signature.plain is not None:
        return signature.plain(name, args)
    if signature.seeded is not None:
        return signature.seeded(name, args, rng)
    template = args[0]
    if not isinstance(template, str):
        raise fail(name, "argument 1 (the template) must be a string")
    return format_string(name, _format_pieces(call.args[0], template), args[1:])


def evaluate(
    text: str,
    data: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    rng: random.Random | None = None,
) -> JSON:
    """Evaluate an intrinsic function call (developer guide, "Intrinsic functions").

    Path arguments select from ``data`` (``$``), ``context`` (``$$``) or ``variables``
    (``$name``). ``rng`` is the only source of randomness (States.UUID, unseeded
    States.MathRandom); without it those raise. Any failure, including a syntax error, raises
    ``StatesError(States.IntrinsicFailure)``, except a Path argument that selects nothing
    (``States.Runtime``).
    """
    try:
        call = parse(text)
    except IntrinsicSyntaxError as exc:
        raise StatesError(
            INTRINSIC_FAILURE, f"invalid intrinsic function {text!r}: {exc}"
        ) from None
    return _evaluate(call, data, context, variables, rng)
