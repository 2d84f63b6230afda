"""Choice Rules in JSONPath states (ASL spec, "Choice Rules"; developer guide, "Choice
workflow state").

A rule is a boolean expression (``And``/``Or``/``Not``) or a comparison of the value a
``Variable`` path selects with a literal or, for the ``...Path`` operators, with the value
another path selects. A comparison whose operand has the wrong type is false; ``IsPresent``
is the one test that may look at a path that selects nothing (any other operator then fails
with ``States.Runtime``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import cast

from legato.core import error_names
from legato.core.asl import paths
from legato.core.asl.errors import StatesError
from legato.core.asl.times import parse_timestamp
from legato.core.events import JSON

_Compare = Callable[[object, object], bool]


def _relation(name: str) -> _Compare:
    """Same-type operands only reach these (strings, numbers, booleans or datetimes)."""
    ops: dict[str, Callable[..., bool]] = {
        "Equals": operator.eq,
        "LessThan": operator.lt,
        "GreaterThan": operator.gt,
        "LessThanEquals": operator.le,
        "GreaterThanEquals": operator.ge,
    }
    return ops[name]


_ORDER: dict[str, _Compare] = {
    name: _relation(name)
    for name in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
}
_TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _operand(kind: str, value: object) -> object | None:
    """The value as the operator's type compares it, or None if it is not of that type."""
    if kind == "String":
        return value if isinstance(value, str) else None
    if kind == "Numeric":
        return value if _is_number(value) else None
    if kind == "Boolean":
        return value if isinstance(value, bool) else None
    if kind == "Timestamp":
        return parse_timestamp(value)
    return None


def string_matches(value: str, pattern: str) -> bool:
    """``StringMatches``: ``*`` matches any run of characters; ``\\*`` is a literal star and
    ``\\\\`` a literal backslash (developer guide, "Choice Rules")."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.fullmatch("".join(out), value, flags=re.DOTALL) is not None


def evaluate_rule(
    rule: Mapping[str, JSON], data: JSON, context: JSON, variables: Mapping[str, JSON]
) -> bool:
    """True if the rule matches the Choice state's effective input ``data``."""
    if "And" in rule:
        return all(evaluate_rule(cast(dict[str, JSON], r), data, context, variables)
                   for r in cast(list[JSON], rule["And"]))  # fmt: skip
    if "Or" in rule:
        return any(evaluate_rule(cast(dict[str, JSON], r), data, context, variables)
                   for r in cast(list[JSON], rule["Or"]))  # fmt: skip
    if "Not" in rule:
        return not evaluate_rule(cast(dict[str, JSON], rule["Not"]), data, context, variables)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise StatesError(error_names.RUNTIME, "a Choice Rule has no Variable")
    for test in _TYPE_TESTS:
        if test in rule:
            return _type_test(test, rule[test], variable, data, context, variables)
    value = paths.select(variable, data, context, variables)
    for key, expected in rule.items():
        if key in ("Variable", "Next", "Assign", "Comment"):
            continue
        return _compare(key, value, expected, data, context, variables)
    raise StatesError(error_names.RUNTIME, f"Choice Rule on {variable} has no comparison operator")


def _type_test(
    test: str,
    wanted: JSON,
    variable: str,
    data: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
) -> bool:
    try:
        value = paths.select(variable, data, context, variables)
        present = True
    except StatesError:
        if test != "IsPresent":
            raise
        value, present = None, False
    holds = {
        "IsPresent": present,
        "IsNull": value is None,
        "IsNumeric": _is_number(value),
        "IsString": isinstance(value, str),
        "IsBoolean": isinstance(value, bool),
        "IsTimestamp": parse_timestamp(value) is not None,
    }[test]
    return holds == wanted


def _compare(
    key: str,
    value: JSON,
    expected: JSON,
    data: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
) -> bool:
    if key == "StringMatches":
        return (
            isinstance(value, str)
            and isinstance(expected, str)
            and (string_matches(value, expected))
        )
    if key.endswith("Path"):
        key = key[: -len("Path")]
        expected = paths.select(cast(str, expected), data, context, variables)
    for kind in ("String", "Numeric", "Boolean", "Timestamp"):
        if key.startswith(kind):
            relation = _ORDER.get(key[len(kind) :])
            if relation is None:
                break
            left, right = _operand(kind, value), _operand(kind, expected)
            if left is None or right is None:
                return False
            if kind == "Boolean" and key[len(kind) :] != "Equals":
                break
            return relation(left, right)
    raise StatesError(error_names.RUNTIME, f"unknown Choice Rule operator {key!r}")
