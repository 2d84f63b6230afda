"""Validation of a Choice state's rules (ASL spec, "Choice State": Choice Rules, Boolean
expressions, Data-test expressions; AWS Step Functions developer guide, "Choice workflow state",
Choice Rules for JSONPath and for JSONata).

A JSONPath rule is a data-test (``Variable`` plus exactly one comparison operator) or one of
``And``/``Or``/``Not``; top-level rules name a ``Next`` state, nested ones must not. A JSONata
rule is a ``Condition`` and a ``Next``.
"""

from __future__ import annotations

from collections.abc import Mapping

from legato.core.asl import validate_syntax as syntax
from legato.core.asl.validate_fields import (
    JSONATA,
    Ctx,
    check_assign,
    check_path,
    check_string,
    check_unknown,
    index,
    is_number,
    is_timestamp,
    jsonata_expression,
    key,
)

_STRING, _NUMBER, _BOOLEAN, _TIMESTAMP, _PATH = "string", "number", "boolean", "timestamp", "path"
_COMPARISONS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")


def _operators() -> dict[str, str]:
    ops: dict[str, str] = {}
    for prefix, kind in (("String", _STRING), ("Numeric", _NUMBER), ("Timestamp", _TIMESTAMP)):
        for comparison in _COMPARISONS:
            ops[prefix + comparison] = kind
            ops[prefix + comparison + "Path"] = _PATH
    ops["BooleanEquals"] = _BOOLEAN
    ops["BooleanEqualsPath"] = _PATH
    ops["StringMatches"] = _STRING
    for test in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"):
        ops[test] = _BOOLEAN
    return ops


OPERATORS = _operators()
_COMBINATORS = ("And", "Or", "Not")
_TOP_ONLY = ("Next", "Assign")
_JSONATA_RULE_FIELDS = ("Condition", "Next", "Assign", "Output", "Comment")
#: Condition is reported by its own rule (JSONata only), not as an unknown field.
_JSONPATH_RULE_FIELDS = ("Variable", "Comment", "Condition", *_COMBINATORS, *OPERATORS, *_TOP_ONLY)


def check_choices(
    ctx: Ctx, state: Mapping[str, object], path: str, language: str
) -> list[tuple[str, str]]:
    """``Choices``: a non-empty array of rules. Returns the transitions as (state name, path)."""
    at = key(path, "Choices")
    if "Choices" not in state:
        ctx.add(at, "Choices is required in a Choice state")
        return []
    rules = state["Choices"]
    if not isinstance(rules, list) or not rules:
        ctx.add(at, "Choices must be a non-empty array of choice rules")
        return []
    transitions: list[tuple[str, str]] = []
    for i, rule in enumerate(rules):
        rule_path = index(at, i)
        if not isinstance(rule, dict):
            ctx.add(rule_path, "a choice rule must be a JSON object")
            continue
        if language == JSONATA:
            _check_jsonata_rule(ctx, rule, rule_path)
        else:
            _check_rule(ctx, rule, rule_path, top=True)
        next_path = key(rule_path, "Next")
        nxt = rule.get("Next")
        if "Next" not in rule:
            ctx.add(next_path, "Next is required in a top-level choice rule")
        elif not isinstance(nxt, str):
            ctx.add(next_path, "Next must be a state name")
        else:
            transitions.append((nxt, next_path))
        check_assign(ctx, rule, rule_path, language)
    return transitions


def _check_jsonata_rule(ctx: Ctx, rule: Mapping[str, object], path: str) -> None:
    for name in rule:
        if name not in _JSONATA_RULE_FIELDS:
            hint = (
                "; use Condition"
                if name in OPERATORS or name in ("Variable", *_COMBINATORS)
                else ""
            )
            ctx.add(key(path, name), f"field {name} is not allowed in a JSONata choice rule{hint}")
    check_string(ctx, rule, path, "Comment")
    if "Condition" not in rule:
        ctx.add(key(path, "Condition"), "Condition is required in a JSONata choice rule")
        return
    condition = rule["Condition"]
    if not isinstance(condition, bool) and jsonata_expression(condition) is None:
        ctx.add(key(path, "Condition"), "Condition must be a JSONata expression {% ... %}")


def _check_rule(ctx: Ctx, rule: Mapping[str, object], path: str, top: bool) -> None:
    check_unknown(ctx, rule, path, _JSONPATH_RULE_FIELDS, "a choice rule")
    if "Condition" in rule:
        ctx.add(key(path, "Condition"), "Condition is only allowed in JSONata states")
    check_string(ctx, rule, path, "Comment")
    if not top:
        for name in _TOP_ONLY:
            if name in rule:
                ctx.add(key(path, name), f"{name} is only allowed in a top-level choice rule")
    operators = [name for name in rule if name in OPERATORS]
    combinators = [name for name in rule if name in _COMBINATORS]
    found = operators + combinators
    if not found:
        ctx.add(path, "a choice rule needs one comparison operator, or And, Or or Not")
        return
    if len(found) > 1:
        ctx.add(path, f"a choice rule takes exactly one operator, not {', '.join(found)}")
    if operators:
        if "Variable" not in rule:
            ctx.add(key(path, "Variable"), "Variable is required with a comparison operator")
        check_path(ctx, rule, path, "Variable", reference=True, nullable=False)
        for name in operators:
            _check_operand(ctx, rule[name], key(path, name), name)
    elif "Variable" in rule:
        ctx.add(key(path, "Variable"), f"Variable is not allowed with {combinators[0]}")
    for name in combinators:
        _check_combinator(ctx, rule[name], key(path, name), name)


def _check_combinator(ctx: Ctx, value: object, path: str, name: str) -> None:
    if name == "Not":
        if isinstance(value, dict):
            _check_rule(ctx, value, path, top=False)
        else:
            ctx.add(path, "Not must hold one choice rule (a JSON object)")
        return
    if not isinstance(value, list) or not value:
        ctx.add(path, f"{name} must be a non-empty array of choice rules")
        return
    for i, inner in enumerate(value):
        if isinstance(inner, dict):
            _check_rule(ctx, inner, index(path, i), top=False)
        else:
            ctx.add(index(path, i), "a choice rule must be a JSON object")


def _check_operand(ctx: Ctx, value: object, path: str, name: str) -> None:
    kind = OPERATORS[name]
    if kind == _STRING and not isinstance(value, str):
        ctx.add(path, f"{name} must be a string")
    elif kind == _NUMBER and not is_number(value):
        ctx.add(path, f"{name} must be a number")
    elif kind == _BOOLEAN and not isinstance(value, bool):
        ctx.add(path, f"{name} must be true or false")
    elif kind == _TIMESTAMP and not is_timestamp(value):
        ctx.add(path, f"{name} must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z")
    elif kind == _PATH and not (isinstance(value, str) and syntax.is_reference_path(value)):
        ctx.add(path, f"{name} must be a Reference Path")
