"""Evaluating an ASL Path against the state data, the Context object or a variable.

Implements the ASL specification, "Paths" and "Reference Paths", and the developer guide's
"Using JSONPath paths", "Accessing execution data from the Context object" and "Passing data
between states with variables" ("Using variables in JSONPath states"):

* ``$...`` selects from the state's data, ``$$...`` from the Context object and ``$name...``
  from the workflow variable ``name`` (for example ``$orderId.items[0]``);
* a *reference path* (only ``.field``, ``['field']`` and ``[index]`` steps) identifies a single
  node, which is returned as is; any other JSONPath (``*``, ``..``, filters ``[?(...)]``, slices,
  unions) returns the list of its matches, as Step Functions does;
* a reference path that identifies nothing, or a path that does not parse, raises
  ``StatesError(States.Runtime)`` whose cause names the path and the reason.

Reference paths, the common case, are walked by hand; everything else goes to jsonpath-ng
(``jsonpath_ng.ext``, which understands filters). A property test checks the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as _jsonpath_parse
from jsonpath_ng.jsonpath import JSONPath

from legato.core.asl.errors import StatesError
from legato.core.error_names import RUNTIME
from legato.core.events import JSON

#: One step of a reference path: an object field name or an array index.
Step = str | int

#: A variable name (developer guide, "Variable name syntax": Unicode identifiers, at most 80).
_VARIABLE: Final = re.compile(r"\$([^\W\d]\w*)")
_MAX_VARIABLE_NAME: Final = 80
#: A field name in dot notation: anything but the JSONPath operators, brackets and blanks.
_DOT_NAME: Final = re.compile(r"[^.\[\]\s@,:?*()'\"$]+")
_INDEX: Final = re.compile(r"\[\s*(-?\d+)\s*\]")
#: A bracketed name: a backslash keeps the next character from closing the quotes, but stays
#: in the name (see ``reference_steps``).
_QUOTED: Final = re.compile(r"""\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""")


def split_root(path: str) -> tuple[str, str, str | None]:
    """Split a Path into (root kind, JSONPath from ``$``, variable name).

    The kind is ``"data"`` for ``$``/``$.``/``$[``, ``"context"`` for ``$$`` (ASL spec, "Paths":
    the first ``$`` is stripped and the rest applies to the Context object) and ``"variable"``
    for ``$name`` (developer guide, "Using variables in JSONPath states"). Raises ``ValueError``
    when the string is none of these. Whitespace around the path is ignored: Step Functions'
    paths "follow JsonPath syntax" (developer guide, "Paths"), that is Jayway JsonPath, whose
    compiler trims the path before reading it.
    """
    path = path.strip()
    if not path.startswith("$"):
        raise ValueError("a path must begin with '$'")
    if path == "$" or path[1] in ".[":
        return "data", path, None
    if path[1] == "$":
        rest = path[1:]
        if rest != "$" and rest[1] not in ".[":
            raise ValueError("'$$' must be followed by '.' or '[' or nothing")
        return "context", rest, None
    match = _VARIABLE.match(path)
    if match is None:
        raise ValueError("'$' must be followed by '.', '[', '$' or a variable name")
    name = match.group(1)
    if len(name) > _MAX_VARIABLE_NAME:
        raise ValueError(f"variable name longer than {_MAX_VARIABLE_NAME} characters")
    rest = "$" + path[match.end() :]
    if rest != "$" and rest[1] not in ".[":
        raise ValueError(f"unexpected {rest[1]!r} after variable ${name}")
    return "variable", rest, name


@lru_cache(maxsize=4096)
def reference_steps(jsonpath: str) -> tuple[Step, ...] | None:
    """The steps of a reference path starting at ``$``, or None if it is not one.

    ASL spec / developer guide, "Reference Paths": object fields by dot (``.name``) or bracket
    (``['name']``, also ``.['name']``) notation and array indexes only; the operators
    ``@ .. , : ? *`` and functions are not allowed. Inside a bracketed name a backslash is part
    of the name, as AWS reads it (it only keeps a quote after it from ending the name).
    """
    if not jsonpath.startswith("$"):
        return None
    steps: list[Step] = []
    i, end = 1, len(jsonpath)
    while i < end:
        char = jsonpath[i]
        if char == ".":
            if jsonpath.startswith("[", i + 1):
                i += 1
                continue
            match = _DOT_NAME.match(jsonpath, i + 1)
            if match is None:
                return None
            steps.append(match.group())
            i = match.end()
        elif char == "[":
            index = _INDEX.match(jsonpath, i)
            if index is not None:
                steps.append(int(index.group(1)))
                i = index.end()
                continue
            quoted = _QUOTED.match(jsonpath, i)
            if quoted is None:
                return None
            # Not unescaped: as on AWS, ``$['Test\""Name"']`` selects the key ``Test\""Name"``.
            steps.append(quoted.group(1) if quoted.group(1) is not None else quoted.group(2))
            i = quoted.end()
        else:
            return None
    return tuple(steps)


def _jsonpath_ng_form(jsonpath: str) -> str:
    """The same JSONPath in the spelling jsonpath-ng reads.

    Step Functions reads paths as Jayway JsonPath does (developer guide, "Paths": "Paths follow
    JsonPath syntax"), which also accepts a dot before a bracket (``$.a.[*]``,
    ``$.[?(@.OU > 0)]``: the same as ``$.a[*]`` and ``$[?(@.OU > 0)]``) and a wildcard right
    after a bracket (``$.a[*]*``: the same as ``$.a[*].*``). jsonpath-ng rejects both, so they
    are rewritten here; text inside brackets and quotes is left as it is.
    """
    out: list[str] = []
    quote: str | None = None
    depth = 0
    i, end = 0, len(jsonpath)
    while i < end:
        char = jsonpath[i]
        if quote is not None:
            if char == "\\" and i + 1 < end:
                out.append(jsonpath[i : i + 2])
                i += 2
                continue
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "[":
            lone_dot = out[-1:] == ["."] and out[-2:-1] != ["."]
            if depth == 0 and lone_dot:
                out.pop()
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "*" and depth == 0 and out[-1:] == ["]"]:
            out.append(".")
        out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def _compile(jsonpath: str) -> JSONPath:
    return _jsonpath_parse(_jsonpath_ng_form(jsonpath))


def _jsonpath_problem(jsonpath: str) -> str | None:
    try:
        _compile(jsonpath)
    except (JsonPathLexerError, JsonPathParserError, ValueError, TypeError) as exc:
        return f"invalid JSONPath: {exc}"
    except Exception as exc:  # jsonpath-ng raises a bare Exception for some inputs
        return f"invalid JSONPath: {exc}"
    return None


def path_problem(path: str) -> str | None:
    """What is wrong with the syntax of a Path, or None when it is valid."""
    try:
        _, jsonpath, _ = split_root(path)
    except ValueError as exc:
        return str(exc)
    if reference_steps(jsonpath) is not None:
        return None
    return _jsonpath_problem(jsonpath)


def is_valid_path(path: str) -> bool:
    """True if ``path`` is a syntactically valid Path (``$``, ``$$`` or ``$var`` forms)."""
    return path_problem(path) is None


def is_reference_path(path: str) -> bool:
    """True if ``path`` is a Reference Path (ASL spec, "Reference Paths")."""
    try:
        _, jsonpath, _ = split_root(path)
    except ValueError:
        return False
    return reference_steps(jsonpath) is not None


def json_type(value: JSON) -> str:
    """A value's JSON type as Step Functions names it in causes: ``object``, ``array``,
    ``string``, ``number``, ``boolean`` or ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _describe(value: JSON) -> str:
    """``json_type`` with its article, for a sentence: "an array", "a string", "null"."""
    kind = json_type(value)
    if kind == "null":
        return kind
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _location(steps: tuple[Step, ...]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


def walk(value: JSON, steps: tuple[Step, ...]) -> tuple[JSON, str | None]:
    """Follow reference-path steps; return (value, None) or (None, why nothing was found)."""
    for depth, step in enumerate(steps):
        here = _location(steps[:depth])
        if isinstance(step, int):
            if not isinstance(value, list):
                return None, f"{here} is {_describe(value)}, not an array"
            if not -len(value) <= step < len(value):
                return None, f"index {step} is out of range for {here} (length {len(value)})"
            value = value[step]
        else:
            if not isinstance(value, dict):
                return None, f"{here} is {_describe(value)}, not an object"
            if step not in value:
                return None, f"field {step!r} not found in {here}"
            value = value[step]
    return value, None


def select(path: str, data: JSON, context: JSON, variables: Mapping[str, JSON]) -> JSON:
    """Evaluate a Path (ASL spec, "Paths"; developer guide, "Using JSONPath paths").

    A reference path returns the node it identifies; any other JSONPath returns the list of
    matches (possibly empty). Raises ``StatesError(States.Runtime)`` when the path is not valid,
    names an undefined variable, or (reference path) identifies nothing.
    """
    try:
        kind, jsonpath, name = split_root(path)
    except ValueError as exc:
        raise StatesError(RUNTIME, f"invalid path {path!r}: {exc}") from None
    if kind == "data":
        root = data
    elif kind == "context":
        root = context
    else:
        assert name is not None
        if name not in variables:
            raise StatesError(RUNTIME, f"path {path!r}: variable ${name} is not defined")
        root = variables[name]
    steps = reference_steps(jsonpath)
    if steps is not None:
        value, why = walk(root, steps)
        if why is not None:
            raise StatesError(RUNTIME, f"path {path!r} selected nothing: {why}")
        return value
    problem = _jsonpath_problem(jsonpath)
    if problem is not None:
        raise StatesError(RUNTIME, f"path {path!r}: {problem}")
    matches: list[JSON] = [match.value for match in _compile(jsonpath).find(root)]
    return matches
