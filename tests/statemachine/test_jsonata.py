"""JSONata states end to end (developer guide, "Transforming data with JSONata in Step
Functions", "Passing data between states with variables")."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single


@pytest.mark.parametrize(
    ("output", "given", "expected"),
    [
        # Developer guide, "Writing JSONata expressions in JSON strings": an expression in
        # {% %} at any depth of objects and arrays; other strings stay literal.
        (
            {"a": "{% 1 + 2 %}", "b": ["{% 'x' & 'y' %}", "plain"]},
            {},
            {"a": 3, "b": ["xy", "plain"]},
        ),
        # A string with a space before "{%" is not an expression.
        ({"a": " {% 1 %}"}, {}, {"a": " {% 1 %}"}),
        # JSONata path navigation, filters and aggregation on $states.input.
        (
            "{% $states.input.orders[price > 10].id %}",
            {"orders": [{"id": 1, "price": 5}, {"id": 2, "price": 20}, {"id": 3, "price": 30}]},
            [2, 3],
        ),
        ("{% $sum($states.input.orders.price) %}", {"orders": [{"price": 5}, {"price": 20}]}, 25),
        ("{% $uppercase($states.input.name) %}", {"name": "ana"}, "ANA"),
        ("{% $states.input.n > 3 ? 'big' : 'small' %}", {"n": 4}, "big"),
        # Developer guide, "JSONata functions provided by Step Functions".
        ("{% $partition([1,2,3,4], 2) %}", {}, [[1, 2], [3, 4]]),
        ("{% $range(0, 10, 2) %}", {}, [0, 2, 4, 6, 8, 10]),
        ("{% $parse($states.input.json) %}", {"json": '{"k": [1, 2]}'}, {"k": [1, 2]}),
        ("{% $hash('input data', 'SHA-256') %}", {}, None),  # checked below against hashlib
        # $states.context: the Context object.
        ("{% $states.context.State.Name %}", {}, "S"),
        ("{% $states.context.Execution.Input.k %}", {"k": 5}, 5),
    ],
)
async def test_output_expressions(output: Any, given: Any, expected: Any) -> None:
    r = await run_state_machine(
        single({"Type": "Pass", "Output": output}, QueryLanguage="JSONata"), given
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    if expected is None:
        expected = hashlib.sha256(b"input data").hexdigest()
    assert r.output == expected


async def test_query_language_per_state() -> None:
    # Developer guide, "Transforming data with JSONata": QueryLanguage may be set for one
    # state, overriding the top-level value (JSONPath by default).
    definition = chain(
        ("Path", {"Type": "Pass", "Parameters": {"v.$": "$.x"}}),
        (
            "Ata",
            {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input.v * 2 %}"},
        ),
    )
    r = await run_state_machine(definition, {"x": 21})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == 42


def double(x: int) -> int:
    return x * 2


async def test_task_arguments_and_states_result() -> None:
    # Developer guide, "Transforming data with JSONata": Arguments are the task's input;
    # $states.result is its result, only in Output and Assign; $states.input the state's
    # input.
    state = {
        "Type": "Task",
        "Resource": "double",
        "Arguments": "{% $states.input.n + 1 %}",
        "Output": {"in": "{% $states.input %}", "result": "{% $states.result %}"},
    }
    r = await run_state_machine(
        single(state, QueryLanguage="JSONata"), {"n": 2}, steps={"double": double}
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"in": {"n": 2}, "result": 6}


async def test_assign_visible_to_later_states_not_same_output() -> None:
    # Developer guide, "Passing data between states with variables": "Evaluation order":
    # Assign and Output are both evaluated from the values as the state began, so the state's
    # own assignments are not visible in its Output; later states see them.
    definition = chain(
        ("Init", {"Type": "Pass", "Assign": {"x": 1}}),
        (
            "Bump",
            {
                "Type": "Pass",
                "Assign": {"x": "{% $x + 10 %}", "y": "{% $x %}"},
                "Output": {"x_in_output": "{% $x %}"},
            },
        ),
        (
            "Read",
            {
                "Type": "Pass",
                "Output": {"prev": "{% $states.input %}", "x": "{% $x %}", "y": "{% $y %}"},
            },
        ),
        QueryLanguage="JSONata",
    )
    r = await run_state_machine(definition, {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"prev": {"x_in_output": 1}, "x": 11, "y": 1}


async def test_assign_with_states_result() -> None:
    # Developer guide, "Passing data between states with variables": Assign in a Task may
    # use $states.result.
    definition = chain(
        (
            "T",
            {
                "Type": "Task",
                "Resource": "double",
                "Arguments": "{% 5 %}",
                "Assign": {"r": "{% $states.result %}"},
            },
        ),
        ("Read", {"Type": "Pass", "Output": "{% $r %}"}),
        QueryLanguage="JSONata",
    )
    r = await run_state_machine(definition, {}, steps={"double": double})
    assert r.output == 10


async def test_parallel_branches_see_outer_variables_without_leaking() -> None:
    # Developer guide, "Passing data between states with variables", "Variable scope": a
    # branch of a Parallel state reads the outer variables; what it assigns stays in the
    # branch, so the outer scope gets data back only through the branches' Output.
    branch = {
        "StartAt": "B",
        "States": {
            "B": {
                "Type": "Pass",
                "Assign": {"inner": "set in branch"},
                "Output": "{% $outer & '!' %}",
                "End": True,
            }
        },
    }
    definition = chain(
        ("Set", {"Type": "Pass", "Assign": {"outer": "hi"}}),
        ("P", {"Type": "Parallel", "Branches": [branch]}),
        (
            "Read",
            {"Type": "Pass", "Output": {"result": "{% $states.input %}", "outer": "{% $outer %}"}},
        ),
        QueryLanguage="JSONata",
    )
    r = await run_state_machine(definition, {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"result": ["hi!"], "outer": "hi"}
    leak = chain(
        ("P", {"Type": "Parallel", "Branches": [branch]}),
        ("Read", {"Type": "Pass", "Output": "{% $inner %}"}),
        QueryLanguage="JSONata",
    )
    r = await run_state_machine(leak, {})
    assert (r.status, r.error) == ("FAILED", "States.QueryEvaluationError")


async def test_map_iterations_see_outer_variables_without_leaking() -> None:
    # Developer guide, "Variable scope": Map iterations read outer variables; their
    # assignments stay inside the iteration.
    processor = {
        "StartAt": "I",
        "States": {
            "I": {
                "Type": "Pass",
                "Assign": {"mine": "{% $states.input %}"},
                "Output": "{% $states.input * $factor %}",
                "End": True,
            }
        },
    }
    definition = chain(
        ("Set", {"Type": "Pass", "Assign": {"factor": 3}}),
        ("M", {"Type": "Map", "Items": "{% $states.input.xs %}", "ItemProcessor": processor}),
        (
            "Read",
            {
                "Type": "Pass",
                "Output": {"r": "{% $states.input %}", "mine": "{% $exists($mine) %}"},
            },
        ),
        QueryLanguage="JSONata",
    )
    r = await run_state_machine(definition, {"xs": [1, 2, 3]})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"r": [3, 6, 9], "mine": False}


@pytest.mark.parametrize(
    ("fields", "given", "expected"),
    [
        # Developer guide, "Map workflow state" (JSONata): Items may be a JSON array literal.
        ({"Items": [1, 2, 3]}, {}, [1, 2, 3]),
        # ... or an expression giving an array.
        ({"Items": "{% $states.input.list %}"}, {"list": ["a"]}, ["a"]),
        # Without Items the input itself is the array.
        ({}, [4, 5], [4, 5]),
        # ItemSelector with $states.context.Map.Item.Index and .Value.
        (
            {
                "Items": ["a", "b"],
                "ItemSelector": {
                    "i": "{% $states.context.Map.Item.Index %}",
                    "v": "{% $states.context.Map.Item.Value %}",
                },
            },
            {},
            [{"i": 0, "v": "a"}, {"i": 1, "v": "b"}],
        ),
        # Output shapes the array of results ($states.result).
        ({"Items": [1, 2], "Output": "{% $count($states.result) %}"}, {}, 2),
    ],
)
async def test_map_items(fields: dict[str, Any], given: Any, expected: Any) -> None:
    echo = {"StartAt": "E", "States": {"E": {"Type": "Pass", "End": True}}}
    definition = single({"Type": "Map", "ItemProcessor": echo, **fields}, QueryLanguage="JSONata")
    r = await run_state_machine(definition, given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected


async def test_catch_output_and_assign_with_error_output() -> None:
    # Developer guide, "Transforming data with JSONata": $states.errorOutput in a Catcher's
    # Output and Assign; without Output a catcher's output is the error output.
    def broken(_: Any) -> None:
        raise KeyError("k")

    def machine(catcher: dict[str, Any], handler_output: Any) -> dict[str, Any]:
        return {
            "QueryLanguage": "JSONata",
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "broken",
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H", **catcher}],
                    "End": True,
                },
                "H": {"Type": "Pass", "Output": handler_output, "End": True},
            },
        }

    r = await run_state_machine(
        machine({}, "{% $states.input %}"), {"order": 1}, steps={"broken": broken}
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Error"] == "KeyError"
    assert set(r.output) == {"Error", "Cause"}
    catcher = {
        "Output": {"err": "{% $states.errorOutput.Error %}", "orig": "{% $states.input %}"},
        "Assign": {"e": "{% $states.errorOutput.Error %}"},
    }
    r = await run_state_machine(
        machine(catcher, {"in": "{% $states.input %}", "e": "{% $e %}"}),
        {"order": 1},
        steps={"broken": broken},
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"in": {"err": "KeyError", "orig": {"order": 1}}, "e": "KeyError"}


@pytest.mark.parametrize(
    "output",
    [
        # Developer guide, "Handling expression errors": a type error in an expression.
        "{% 'a' + 1 %}",
        # ... an expression whose result is undefined (a field that does not exist).
        "{% $states.input.missing %}",
        # ... calling $eval, which Step Functions does not support.
        "{% $eval('1') %}",
    ],
)
async def test_query_evaluation_errors(output: str) -> None:
    r = await run_state_machine(
        single({"Type": "Pass", "Output": output}, QueryLanguage="JSONata"), {}
    )
    assert (r.status, r.error) == ("FAILED", "States.QueryEvaluationError")
