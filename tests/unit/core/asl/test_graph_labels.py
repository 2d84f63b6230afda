"""Edge words: a Choice rule as a condition in a line, a Catcher as the errors it catches."""

from __future__ import annotations

from typing import Any

import pytest

from legato.core.asl.graph_labels import catch_label, choice_label


@pytest.mark.parametrize(
    ("rule", "label"),
    [
        ({"Variable": "$.total", "NumericGreaterThan": 100}, "$.total > 100"),
        ({"Variable": "$.total", "NumericLessThanEquals": 1.5}, "$.total <= 1.5"),
        ({"Variable": "$.country", "StringEquals": "FR"}, '$.country == "FR"'),
        ({"Variable": "$.a", "NumericGreaterThanEqualsPath": "$.b"}, "$.a >= $.b"),
        ({"Variable": "$.ok", "BooleanEquals": False}, "$.ok == false"),
        ({"Variable": "$.at", "TimestampLessThan": "2026-01-01T00:00:00Z"},
         '$.at < "2026-01-01T00:00:00Z"'),
        ({"Variable": "$.name", "StringMatches": "log-*.txt"}, '$.name matches "log-*.txt"'),
        ({"Variable": "$.x", "IsPresent": True}, "$.x is present"),
        ({"Variable": "$.x", "IsNull": False}, "$.x is not null"),
        ({"And": [{"Variable": "$.a", "NumericEquals": 1},
                  {"Or": [{"Variable": "$.b", "StringEquals": "x"},
                          {"Not": {"Variable": "$.c", "IsNull": True}}]}]},
         '$.a == 1 and ($.b == "x" or not $.c is null)'),
        ({"Condition": "{% $states.input.total > 100 %}"}, "$states.input.total > 100"),
        ({"Comment": "a big order", "Variable": "$.total", "NumericGreaterThan": 100},
         "a big order"),
        ({"Variable": "$.x", "SomethingNew": 1}, "condition"),
    ],
)  # fmt: skip
def test_choice_rules_read_as_conditions(rule: dict[str, Any], label: str) -> None:
    assert choice_label({**rule, "Next": "X"}) == label


def test_catchers_name_their_errors() -> None:
    assert catch_label({"ErrorEquals": ["Declined", "States.Timeout"], "Next": "X"}) == (
        "Declined, States.Timeout"
    )
    assert catch_label({"Next": "X"}) == "error"
