"""Numeric fields read at run time (``legato.core.asl.numbers``): numeric strings count as
numbers; other values and values out of range are States.Runtime (developer guide, "Error
names"; the wording of AWS executions)."""

from __future__ import annotations

import pytest

from legato.core.asl.errors import StatesError
from legato.core.asl.numbers import runtime_number
from legato.core.error_names import RUNTIME
from legato.core.events import JSON


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("Seconds", 3, 3.0),
        ("Seconds", "3", 3.0),
        ("Seconds", " 3 ", 3.0),
        ("Seconds", 2.0, 2.0),
        ("MaxConcurrency", "0", 0.0),
        ("ToleratedFailurePercentage", "12.5", 12.5),
        ("ToleratedFailurePercentage", 100, 100.0),
    ],
)
def test_numbers(key: str, value: JSON, expected: float) -> None:
    assert runtime_number(key, value, "$.v") == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Seconds", 1.5),
        ("Seconds", "1.5"),
        ("Seconds", True),
        ("Seconds", None),
        ("Seconds", [1]),
        ("Seconds", -1),
        ("MaxConcurrency", "NaN"),
        ("ToleratedFailurePercentage", "inf"),
        ("ToleratedFailurePercentage", 100.5),
        ("ToleratedFailureCount", -1),
    ],
)
def test_not_numbers(key: str, value: JSON) -> None:
    with pytest.raises(StatesError) as info:
        runtime_number(key, value, "$.v")
    assert info.value.error == RUNTIME
