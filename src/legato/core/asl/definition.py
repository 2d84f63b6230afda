"""Reading a state machine definition from text (ASL spec, "Structure of a State Machine": a
state machine is represented by a JSON object; YAML, a superset of JSON, is accepted too).

Text that starts like JSON (``{`` or ``[``) is parsed as JSON so that a syntax error is reported
with its JSON line and column; anything else is parsed as YAML. YAML timestamps stay strings
(``Timestamp: 2024-01-01T00:00:00Z`` is the Wait state's string, not a datetime) and every value
must be JSON (string keys, finite numbers). Problems are raised as
:class:`~legato.errors.InvalidDefinitionError`.
"""

from __future__ import annotations

import json
import math
from typing import TypeAlias

import yaml

from legato.core.asl.validate_fields import Problem, index, key
from legato.errors import InvalidDefinitionError

JSON: TypeAlias = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):
    """The safe loader without the timestamp resolver."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_definition(text: str, source: str) -> dict[str, JSON]:
    """The definition in ``text`` (JSON or YAML) as a JSON object; ``source`` names where the
    text came from in error messages."""
    if not text.strip():
        raise InvalidDefinitionError([Problem("$", "the definition is empty")], source)
    if text.lstrip().startswith(("{", "[")):
        value = _parse_json(text, source)
    else:
        value = _parse_yaml(text, source)
    problems: list[Problem] = []
    try:
        converted = _to_json(value, "$", problems)
    except RecursionError:
        problems = [Problem("$", "the definition is nested too deeply")]
    if problems:
        raise InvalidDefinitionError(problems, source)
    if not isinstance(converted, dict):
        found = type(value).__name__
        raise InvalidDefinitionError(
            [Problem("$", f"a state machine definition must be a JSON object, not {found}")],
            source,
        )
    return converted


def _parse_json(text: str, source: str) -> object:
    def duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        result: dict[str, object] = {}
        for name, value in pairs:
            if name in result:
                raise ValueError(f"duplicate key {name!r}")
            result[name] = value
        return result

    def constant(name: str) -> object:
        raise ValueError(f"{name} is not a JSON number")

    try:
        value: object = json.loads(text, object_pairs_hook=duplicates, parse_constant=constant)
    except json.JSONDecodeError as exc:
        rule = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise InvalidDefinitionError([Problem("$", rule)], source) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidDefinitionError([Problem("$", f"invalid JSON: {exc}")], source) from None
    return value


def _parse_yaml(text: str, source: str) -> object:
    try:
        value: object = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "syntax error"
        raise InvalidDefinitionError(
            [Problem("$", f"invalid YAML{where}: {what}")], source
        ) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise InvalidDefinitionError([Problem("$", f"invalid YAML: {exc}")], source) from None
    return value


def _to_json(value: object, path: str, problems: list[Problem]) -> JSON:
    """``value`` as JSON; a problem for each part that JSON cannot hold."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(Problem(path, f"{value} is not a JSON number"))
        return value
    if isinstance(value, list):
        return [_to_json(item, index(path, i), problems) for i, item in enumerate(value)]
    if isinstance(value, dict):
        result: dict[str, JSON] = {}
        for name, inner in value.items():
            if not isinstance(name, str):
                problems.append(Problem(key(path, str(name)), f"key {name!r} is not a string"))
                continue
            result[name] = _to_json(inner, key(path, name), problems)
        return result
    problems.append(Problem(path, f"a {type(value).__name__} value is not JSON"))
    return None
