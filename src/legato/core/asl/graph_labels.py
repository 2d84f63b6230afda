"""Words for a graph's edges: a Choice rule as a short condition (``$.total > 100``), a
Catcher as the errors it catches. Pure; what it does not recognise it says generically rather
than raises (a graph is drawn from a definition that should be valid, not checked again).

A rule's ``Comment`` wins over the condition: it is what its author meant a reader to see.
"""

from __future__ import annotations

from typing import Any

from legato.core import codec

_COMPARISONS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
}
_KINDS = ("String", "Numeric", "Boolean", "Timestamp")
_TESTS = {
    "IsNull": ("is null", "is not null"),
    "IsPresent": ("is present", "is absent"),
    "IsNumeric": ("is a number", "is not a number"),
    "IsString": ("is a string", "is not a string"),
    "IsBoolean": ("is a boolean", "is not a boolean"),
    "IsTimestamp": ("is a timestamp", "is not a timestamp"),
}


def choice_label(rule: dict[str, Any]) -> str:
    """ASL spec, "Choice Rules": a rule's condition in a line."""
    comment = rule.get("Comment")
    if isinstance(comment, str) and comment.strip():
        return comment.strip()
    return _condition(rule, top=True)


def catch_label(catcher: dict[str, Any]) -> str:
    """ASL spec, "Fallback states": the error names a Catcher matches."""
    errors = catcher.get("ErrorEquals")
    if isinstance(errors, list) and errors:
        return ", ".join(str(e) for e in errors)
    return "error"


def _condition(rule: dict[str, Any], top: bool = False) -> str:
    condition = rule.get("Condition")
    if isinstance(condition, bool):  # JSONata: a literal true/false
        return "true" if condition else "false"
    if isinstance(condition, str):  # JSONata: the expression between {% and %}
        text = condition.strip()
        if text.startswith("{%") and text.endswith("%}"):
            text = text[2:-2].strip()
        return text
    for key, joiner in (("And", " and "), ("Or", " or ")):
        parts = rule.get(key)
        if isinstance(parts, list):
            text = joiner.join(_condition(p) for p in parts if isinstance(p, dict))
            return text if top else f"({text})"
    inner = rule.get("Not")
    if isinstance(inner, dict):
        return f"not {_condition(inner)}"
    variable = str(rule.get("Variable", "?"))
    for key, value in rule.items():
        test = _TESTS.get(key)
        if test is not None:
            return f"{variable} {test[0] if value is not False else test[1]}"
        op = _operator(key)
        if op is not None:
            shown = value if key.endswith("Path") else codec.dumps(value, "choice value")
            return f"{variable} {op} {shown}"
    return "condition"


def _operator(key: str) -> str | None:
    if key == "StringMatches":
        return "matches"
    for kind in _KINDS:
        if key.startswith(kind):
            rest = key[len(kind) :].removesuffix("Path")
            return _COMPARISONS.get(rest)
    return None
