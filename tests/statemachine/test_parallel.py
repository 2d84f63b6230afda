"""Parallel states end to end (ASL spec, "Parallel State"; developer guide, "Parallel workflow
state")."""

from __future__ import annotations

from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import chain


def _add(pair: list[int]) -> int:
    return pair[0] + pair[1]


def _subtract(pair: list[int]) -> int:
    return pair[0] - pair[1]


def _branch(name: str, state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {**state, "End": True}}}


# ASL spec, "Parallel State": the FunWithMath example.
FUN_WITH_MATH = {
    "StartAt": "FunWithMath",
    "States": {
        "FunWithMath": {
            "Type": "Parallel",
            "Branches": [
                _branch("Add", {"Type": "Task", "Resource": "Add"}),
                _branch("Subtract", {"Type": "Task", "Resource": "Subtract"}),
            ],
            "End": True,
        }
    },
}


async def test_spec_example() -> None:
    # ASL spec, "Parallel State": "If the FunWithMath state was given the JSON array [3, 2]
    # as input, then both the Add and Subtract states would receive that array as input. The
    # output of Add would be 5, that of Subtract would be 1, and the output of the Parallel
    # State would be a JSON array: [5, 1]".
    r = await run_state_machine(FUN_WITH_MATH, [3, 2], steps={"Add": _add, "Subtract": _subtract})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == [5, 1]


@pytest.mark.parametrize(
    ("extra", "given", "expected"),
    [
        # ASL spec, "Parallel State": the result is placed by ResultPath like any result.
        ({"ResultPath": "$.results"}, {"a": 1}, {"a": 1, "results": [{"a": 1}, "two"]}),
        # ASL spec, "ResultSelector": applied to the array of branch outputs.
        ({"ResultSelector": {"second.$": "$[1]"}}, {"a": 1}, {"second": "two"}),
        # Developer guide, "Parallel workflow state": Parameters shape the branches' input.
        ({"Parameters": {"b.$": "$.a"}}, {"a": 1}, [{"b": 1}, "two"]),
        # ASL spec, "InputPath" and "OutputPath" on a Parallel state.
        ({"InputPath": "$.in", "OutputPath": "$[0]"}, {"in": {"z": 0}}, {"z": 0}),
    ],
)
async def test_parallel_dataflow(extra: dict[str, Any], given: Any, expected: Any) -> None:
    state = {
        "Type": "Parallel",
        "Branches": [
            _branch("Same", {"Type": "Pass"}),
            _branch("Const", {"Type": "Pass", "Result": "two"}),
        ],
        **extra,
    }
    r = await run_state_machine(chain(("P", state)), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected


async def test_branches_run_several_states_and_keep_branch_order() -> None:
    # ASL spec, "Parallel State": "the output ... is an array with one element for each
    # branch", in the order of Branches, whatever order they finish in.
    slow = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 60, "Next": "R"},
            "R": {"Type": "Pass", "Result": "slow", "End": True},
        },
    }
    state = {
        "Type": "Parallel",
        "Branches": [slow, _branch("F", {"Type": "Pass", "Result": "fast"})],
    }
    r = await run_state_machine(chain(("P", state)), {})
    assert r.output == ["slow", "fast"]


async def test_a_failing_branch_fails_the_state() -> None:
    # ASL spec, "Parallel State": "If any branch fails, due to an unhandled error or by
    # transitioning to a Fail state, the entire Parallel State is considered to have failed
    # ... If the error is not handled by the Parallel State itself, the interpreter should
    # terminate the machine execution with an error."
    state = {
        "Type": "Parallel",
        "Branches": [
            _branch("Ok", {"Type": "Pass"}),
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "ErrorA", "Cause": "c"}}},
        ],
    }
    r = await run_state_machine(chain(("P", state), ("After", {"Type": "Pass"})), {})
    assert (r.status, r.error, r.cause) == ("FAILED", "ErrorA", "c")
    assert "After" not in r.states_entered()


async def test_a_failing_branch_is_caught_by_the_parallel_state() -> None:
    # ASL spec, "Parallel State": the Parallel state's Catch handles a branch's error;
    # "Catchers": the error output {"Error", "Cause"} is placed by the catcher's ResultPath.
    state = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "ErrorA", "Cause": "c"}}},
        ],
        "Catch": [{"ErrorEquals": ["ErrorA"], "ResultPath": "$.err", "Next": "Handled"}],
        "Next": "Unused",
    }
    definition = {
        "StartAt": "P",
        "States": {
            "P": state,
            "Unused": {"Type": "Pass", "End": True},
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, {"in": 1})
    assert r.status == "COMPLETED"
    assert r.output == {"in": 1, "err": {"Error": "ErrorA", "Cause": "c"}}


async def test_a_failing_branch_stops_its_siblings() -> None:
    # ASL spec, "Parallel State": when a branch fails "all its branches are stopped".
    slow = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 600, "Next": "Late"},
            "Late": {"Type": "Pass", "End": True},
        },
    }
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}
    r = await run_state_machine(chain(("P", {"Type": "Parallel", "Branches": [slow, failing]})), {})
    assert r.status == "FAILED"
    assert r.error == "E"
    assert "Late" not in r.states_entered()


async def test_retry_runs_every_branch_again() -> None:
    # ASL spec, "Error Handling": Parallel states may Retry; the whole state runs again.
    calls: list[int] = []

    def flaky(x: Any) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first time")
        return "ok"

    state = {
        "Type": "Parallel",
        "Branches": [
            _branch("T", {"Type": "Task", "Resource": "flaky"}),
            _branch("Q", {"Type": "Pass", "Result": "p"}),
        ],
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1}],
    }
    r = await run_state_machine(chain(("P", state)), {}, steps={"flaky": flaky})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == ["ok", "p"]
    assert len(calls) == 2


async def test_jsonata_arguments_and_output() -> None:
    # Developer guide, "Parallel workflow state" (JSONata): Arguments give the branches'
    # input, and $states.result is the array of branch outputs in Output.
    state = {
        "Type": "Parallel",
        "Arguments": {"v": "{% $states.input.x * 10 %}"},
        "Branches": [
            _branch("A", {"Type": "Pass", "Output": "{% $states.input.v + 1 %}"}),
            _branch("B", {"Type": "Pass", "Output": "{% $states.input.v + 2 %}"}),
        ],
        "Output": {"sum": "{% $sum($states.result) %}"},
    }
    r = await run_state_machine(chain(("P", state), QueryLanguage="JSONata"), {"x": 1})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"sum": 23}
