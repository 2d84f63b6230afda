"""Choice states end to end (ASL spec, "Choice State"; developer guide, "Choice workflow
state")."""

from __future__ import annotations

from typing import Any

import pytest

from legato.testing import run_state_machine

# ASL spec, "Choice State": the example ChoiceStateX.
SPEC_CHOICE = {
    "Type": "Choice",
    "Choices": [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {
            "And": [
                {"Variable": "$.value", "IsPresent": True},
                {"Variable": "$.value", "IsNumeric": True},
                {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                {"Variable": "$.value", "NumericLessThan": 30},
            ],
            "Next": "ValueInTwenties",
        },
        {
            "Variable": "$.rating",
            "NumericGreaterThanPath": "$.auditThreshold",
            "Next": "StartAudit",
        },
    ],
    "Default": "RecordEvent",
}


def _targets(*names: str) -> dict[str, Any]:
    return {name: {"Type": "Pass", "Result": name, "End": True} for name in names}


SPEC_MACHINE = {
    "StartAt": "ChoiceStateX",
    "States": {
        "ChoiceStateX": SPEC_CHOICE,
        **_targets("Public", "ValueInTwenties", "StartAudit", "RecordEvent"),
    },
}


@pytest.mark.parametrize(
    ("given", "target"),
    [
        # ASL spec, "Choice State": "suppose the machine is started with the input value
        # {"type": "Private", "value": 22} ... transition to the ValueInTwenties state".
        ({"type": "Private", "value": 22}, "ValueInTwenties"),
        # The Not rule: a type other than "Private" goes to Public.
        ({"type": "Public", "value": 22}, "Public"),
        # The And rule needs value in [20, 30).
        ({"type": "Private", "value": 30, "rating": 5, "auditThreshold": 10}, "RecordEvent"),
        # NumericGreaterThanPath compares with another field of the input.
        ({"type": "Private", "value": 35, "rating": 53, "auditThreshold": 50}, "StartAudit"),
        # ASL spec, "Choice State": no match goes to Default.
        ({"type": "Private", "value": 1, "rating": 50, "auditThreshold": 50}, "RecordEvent"),
    ],
)
async def test_spec_example(given: dict[str, Any], target: str) -> None:
    r = await run_state_machine(SPEC_MACHINE, given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.states_entered() == ["ChoiceStateX", target]
    assert r.output == target


def _one_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}], "Default": "No"},
            **_targets("Yes", "No"),
        },
    }


# ASL spec, "Choice Rules": the data-test expressions, each rule against an input it does
# and does not match.
@pytest.mark.parametrize(
    ("rule", "given", "matches"),
    [
        ({"Variable": "$.s", "StringEquals": "abc"}, {"s": "abc"}, True),
        ({"Variable": "$.s", "StringEquals": "abc"}, {"s": "abd"}, False),
        ({"Variable": "$.s", "StringLessThan": "b"}, {"s": "a"}, True),
        ({"Variable": "$.s", "StringGreaterThan": "b"}, {"s": "a"}, False),
        ({"Variable": "$.s", "StringLessThanEquals": "a"}, {"s": "a"}, True),
        ({"Variable": "$.s", "StringGreaterThanEquals": "a"}, {"s": "b"}, True),
        ({"Variable": "$.s", "StringEqualsPath": "$.t"}, {"s": "x", "t": "x"}, True),
        # ASL spec, "StringMatches": "log-*.txt" matches any log file name.
        ({"Variable": "$.s", "StringMatches": "log-*.txt"}, {"s": "log-2024-01.txt"}, True),
        ({"Variable": "$.s", "StringMatches": "log-*.txt"}, {"s": "log-2024-01.csv"}, False),
        # ASL spec, "StringMatches": "\\*" is a literal asterisk.
        ({"Variable": "$.s", "StringMatches": "a\\*b"}, {"s": "a*b"}, True),
        ({"Variable": "$.s", "StringMatches": "a\\*b"}, {"s": "axb"}, False),
        ({"Variable": "$.n", "NumericEquals": 1}, {"n": 1.0}, True),
        ({"Variable": "$.n", "NumericLessThan": 1}, {"n": 1}, False),
        ({"Variable": "$.n", "NumericLessThanEquals": 1}, {"n": 1}, True),
        ({"Variable": "$.n", "NumericGreaterThan": 1.5}, {"n": 2}, True),
        ({"Variable": "$.n", "NumericGreaterThanEquals": 3}, {"n": 2}, False),
        ({"Variable": "$.n", "NumericLessThanPath": "$.m"}, {"n": 1, "m": 2}, True),
        ({"Variable": "$.b", "BooleanEquals": True}, {"b": True}, True),
        ({"Variable": "$.b", "BooleanEquals": True}, {"b": False}, False),
        ({"Variable": "$.b", "BooleanEqualsPath": "$.c"}, {"b": False, "c": False}, True),
        (
            {"Variable": "$.t", "TimestampEquals": "2016-03-14T01:59:00Z"},
            {"t": "2016-03-14T01:59:00Z"},
            True,
        ),
        (
            {"Variable": "$.t", "TimestampLessThan": "2016-03-14T01:59:00Z"},
            {"t": "2016-03-14T01:58:59Z"},
            True,
        ),
        (
            {"Variable": "$.t", "TimestampGreaterThanEquals": "2016-03-14T01:59:00Z"},
            {"t": "2016-03-14T01:58:59Z"},
            False,
        ),
        (
            {"Variable": "$.t", "TimestampGreaterThanPath": "$.u"},
            {"t": "2016-03-15T00:00:00Z", "u": "2016-03-14T00:00:00Z"},
            True,
        ),
        ({"Variable": "$.x", "IsNull": True}, {"x": None}, True),
        ({"Variable": "$.x", "IsNull": True}, {"x": 0}, False),
        ({"Variable": "$.x", "IsPresent": False}, {"y": 1}, True),
        ({"Variable": "$.x", "IsPresent": True}, {"y": 1}, False),
        ({"Variable": "$.x", "IsNumeric": True}, {"x": "1"}, False),
        ({"Variable": "$.x", "IsString": True}, {"x": "1"}, True),
        ({"Variable": "$.x", "IsBoolean": True}, {"x": False}, True),
        ({"Variable": "$.x", "IsTimestamp": True}, {"x": "2016-03-14T01:59:00Z"}, True),
        ({"Variable": "$.x", "IsTimestamp": True}, {"x": "yesterday"}, False),
        # ASL spec, "Choice Rules": Boolean expressions And, Or, Not.
        (
            {
                "Or": [
                    {"Variable": "$.n", "NumericLessThan": 0},
                    {"Variable": "$.n", "NumericGreaterThan": 10},
                ]
            },
            {"n": 11},
            True,
        ),
        (
            {
                "Or": [
                    {"Variable": "$.n", "NumericLessThan": 0},
                    {"Variable": "$.n", "NumericGreaterThan": 10},
                ]
            },
            {"n": 5},
            False,
        ),
        ({"Not": {"Variable": "$.n", "NumericEquals": 5}}, {"n": 5}, False),
        # ASL spec, "Choice Rules": a comparison of a value of another type is false.
        ({"Variable": "$.n", "NumericEquals": 5}, {"n": "5"}, False),
        ({"Variable": "$.s", "StringEquals": "5"}, {"s": 5}, False),
    ],
)
async def test_comparison_operators(rule: dict[str, Any], given: Any, matches: bool) -> None:
    r = await run_state_machine(_one_rule(rule), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == ("Yes" if matches else "No")


async def test_first_matching_rule_wins() -> None:
    # ASL spec, "Choice State": "the interpreter ... transitions to the Next state of the
    # first Choice Rule that matches".
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": 1, "Next": "First"},
                    {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Second"},
                ],
            },
            **_targets("First", "Second"),
        },
    }
    r = await run_state_machine(definition, {"n": 5})
    assert r.output == "First"


async def test_choice_passes_its_input_through_filters() -> None:
    # ASL spec, "Choice State": Choice has InputPath and OutputPath; its output is its
    # (filtered) input.
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "InputPath": "$.inner",
                "OutputPath": "$.keep",
                "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "E"}],
            },
            "E": {"Type": "Succeed"},
        },
    }
    r = await run_state_machine(definition, {"inner": {"go": True, "keep": [1]}, "x": 0})
    assert r.output == [1]


async def test_choice_on_a_variable() -> None:
    # Developer guide, "Passing data between states with variables": a Choice rule's Variable
    # may be a variable reference.
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"limit": 3}, "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$limit", "NumericEquals": 3, "Next": "Yes"}],
                "Default": "No",
            },
            **_targets("Yes", "No"),
        },
    }
    r = await run_state_machine(definition, {})
    assert r.output == "Yes"


@pytest.mark.parametrize(
    ("given", "target"),
    [
        # Developer guide, "Choice workflow state" (JSONata): the spec example with
        # Conditions.
        ({"type": "Private", "value": 22}, "ValueInTwenties"),
        ({"type": "Public", "value": 22}, "Public"),
        ({"type": "Private", "value": 2}, "RecordEvent"),
    ],
)
async def test_jsonata_conditions(given: dict[str, Any], target: str) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Condition": "{% $states.input.type != 'Private' %}", "Next": "Public"},
                    {
                        "Condition": (
                            "{% $states.input.value >= 20 and $states.input.value < 30 %}"
                        ),
                        "Next": "ValueInTwenties",
                    },
                ],
                "Default": "RecordEvent",
            },
            **{
                name: {"Type": "Pass", "Output": name, "End": True}
                for name in ("Public", "ValueInTwenties", "RecordEvent")
            },
        },
    }
    r = await run_state_machine(definition, given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == target


async def test_jsonata_choice_rule_output_and_assign() -> None:
    # Developer guide, "Choice workflow state" (JSONata): a Choice Rule may have its own
    # Output and Assign, used when that rule matches.
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": "{% $states.input.n > 0 %}",
                        "Output": {"sign": "positive"},
                        "Assign": {"seen": "{% $states.input.n %}"},
                        "Next": "E",
                    }
                ],
                "Default": "E",
            },
            "E": {"Type": "Pass", "Output": "{% [$states.input, $seen] %}", "End": True},
        },
    }
    r = await run_state_machine(definition, {"n": 4})
    assert r.output == [{"sign": "positive"}, 4]
