"""Succeed and Fail states end to end (ASL spec, "Succeed State", "Fail State"; developer
guide, "Succeed workflow state", "Fail workflow state")."""

from __future__ import annotations

from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single


@pytest.mark.parametrize(
    ("state", "given", "expected"),
    [
        # ASL spec, "Succeed State": its output is its input.
        ({"Type": "Succeed"}, {"a": 1}, {"a": 1}),
        # ASL spec, "Succeed State" may have InputPath and OutputPath.
        ({"Type": "Succeed", "InputPath": "$.a"}, {"a": {"b": 2}}, {"b": 2}),
        ({"Type": "Succeed", "OutputPath": "$.a.b"}, {"a": {"b": 2}}, 2),
    ],
)
async def test_succeed(state: dict[str, Any], given: Any, expected: Any) -> None:
    r = await run_state_machine(single(state), given)
    assert r.status == "COMPLETED"
    assert r.output == expected


async def test_succeed_stops_the_machine() -> None:
    # ASL spec, "Succeed State": "terminates a state machine successfully"; it is a terminal
    # state, so a Choice that goes to it ends the run there.
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "Done"}],
                "Default": "More",
            },
            "Done": {"Type": "Succeed"},
            "More": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, {"x": 1})
    assert r.output == {"x": 1}
    assert r.states_entered() == ["C", "Done"]


async def test_succeed_in_a_branch_ends_only_that_branch() -> None:
    # ASL spec, "Parallel State": a branch ends at its terminal state; developer guide,
    # "Succeed workflow state": useful to end a branch of a Parallel state.
    definition = chain(
        (
            "P",
            {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "S1", "States": {"S1": {"Type": "Succeed"}}},
                    {"StartAt": "S2", "States": {"S2": {"Type": "Pass", "Result": 2, "End": True}}},
                ],
            },
        ),
        ("After", {"Type": "Pass"}),
    )
    r = await run_state_machine(definition, "in")
    assert r.status == "COMPLETED"
    assert r.output == ["in", 2]


@pytest.mark.parametrize(
    ("state", "given", "error", "cause"),
    [
        # ASL spec, "Fail State": the example Error "ErrorA", Cause "Kaiju attack".
        (
            {"Type": "Fail", "Error": "ErrorA", "Cause": "Kaiju attack"},
            {},
            "ErrorA",
            "Kaiju attack",
        ),
        # Developer guide, "Fail workflow state": ErrorPath and CausePath select from the input.
        (
            {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"},
            {"Error": "CustomError", "Cause": "a cause"},
            "CustomError",
            "a cause",
        ),
        # Developer guide, "Fail workflow state": CausePath may be an intrinsic function.
        (
            {
                "Type": "Fail",
                "ErrorPath": "$.Error",
                "CausePath": (
                    "States.Format('This is a custom error message for {}, caused by {}.', "
                    "$.Error, $.Cause)"
                ),
            },
            {"Error": "MyError", "Cause": "a bad input"},
            "MyError",
            "This is a custom error message for MyError, caused by a bad input.",
        ),
    ],
)
async def test_fail(state: dict[str, Any], given: Any, error: str, cause: str) -> None:
    r = await run_state_machine(single(state), given)
    assert r.status == "FAILED"
    assert (r.error, r.cause) == (error, cause)
    assert r.output is None


async def test_fail_jsonata_expressions() -> None:
    # Developer guide, "Fail workflow state": in JSONata states Error and Cause accept
    # expressions.
    state = {
        "Type": "Fail",
        "Error": "{% $states.input.code %}",
        "Cause": "{% 'failed: ' & $states.input.why %}",
    }
    r = await run_state_machine(
        single(state, QueryLanguage="JSONata"), {"code": "E1", "why": "no stock"}
    )
    assert (r.status, r.error, r.cause) == ("FAILED", "E1", "failed: no stock")


async def test_fail_after_other_states() -> None:
    # ASL spec, "Fail State": "terminates the machine and marks it as a failure".
    definition = chain(
        ("A", {"Type": "Pass", "Result": 1}),
        ("F", {"Type": "Fail", "Error": "Stopped", "Cause": "by F"}),
    )
    r = await run_state_machine(definition, {})
    assert (r.status, r.error, r.cause) == ("FAILED", "Stopped", "by F")
    assert r.states_entered() == ["A", "F"]


async def test_succeed_jsonata_output() -> None:
    # Developer guide, "Succeed workflow state" (JSONata): Output shapes the final output.
    state = {"Type": "Succeed", "Output": {"total": "{% $sum($states.input.xs) %}"}}
    r = await run_state_machine(single(state, QueryLanguage="JSONata"), {"xs": [1, 2]})
    assert r.output == {"total": 3}
