"""JSONPath data flow end to end: InputPath, Parameters, ResultSelector, ResultPath, OutputPath,
the Context object, intrinsic functions and variables (ASL spec, "Input and Output Processing",
"Context Object", "Intrinsic Functions"; developer guide, "Processing input and output",
"Accessing execution data from the Context object", "Intrinsic functions", "Passing data between
states with variables")."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single

# Developer guide, "Specifying state output using ResultPath": the example input and the
# HelloFunction Lambda ("Hello, " + who).
RESULTPATH_INPUT = {
    "comment": "This is a test of the input and output of a Task state.",
    "details": "Default example",
    "who": "AWS Step Functions",
}
HELLO = "Hello, AWS Step Functions"

# Developer guide, "InputPath, ResultPath and OutputPath example": the example input.
FILTER_INPUT = {
    "comment": "An input comment.",
    "data": {"val1": 23, "val2": 17},
    "extra": "foo",
    "lambda": {"who": "AWS Step Functions"},
}


def hello(event: dict[str, Any]) -> str:
    return "Hello, " + str(event["who"])


@pytest.mark.parametrize(
    ("fields", "given", "expected"),
    [
        # Developer guide, "ResultPath": "Use ResultPath to replace the input with the
        # result" (ResultPath "$", also the default).
        ({"ResultPath": "$"}, RESULTPATH_INPUT, HELLO),
        ({}, RESULTPATH_INPUT, HELLO),
        # Developer guide, "ResultPath": "Discard the result and keep the original input"
        # (ResultPath null).
        ({"ResultPath": None}, RESULTPATH_INPUT, RESULTPATH_INPUT),
        # Developer guide, "ResultPath": "Use ResultPath to include the result with the
        # input" (ResultPath "$.taskresult").
        (
            {"ResultPath": "$.taskresult"},
            RESULTPATH_INPUT,
            {**RESULTPATH_INPUT, "taskresult": HELLO},
        ),
        # Developer guide, "ResultPath": "Use ResultPath to update a node in the input with
        # the result" (InputPath "$.lambda", ResultPath "$.data.lambdaresult").
        (
            {"InputPath": "$.lambda", "ResultPath": "$.data.lambdaresult"},
            FILTER_INPUT,
            {**FILTER_INPUT, "data": {"val1": 23, "val2": 17, "lambdaresult": HELLO}},
        ),
        # Developer guide, "InputPath, ResultPath and OutputPath example": adding OutputPath
        # "$.data" keeps only the data node.
        (
            {"InputPath": "$.lambda", "ResultPath": "$.data.lambdaresult", "OutputPath": "$.data"},
            FILTER_INPUT,
            {"val1": 23, "val2": 17, "lambdaresult": HELLO},
        ),
        # ASL spec, "ResultPath": a reference path creates the fields it names if missing.
        ({"ResultPath": "$.a.b.c"}, {"who": "x"}, {"who": "x", "a": {"b": {"c": "Hello, x"}}}),
        # ASL spec, "ResultPath": a reference path may set an array element.
        (
            {"InputPath": "$[0]", "ResultPath": "$[1]"},
            [{"who": "y"}, 0],
            [{"who": "y"}, "Hello, y"],
        ),
        # ASL spec, "InputPath": null makes the effective input {}; Parameters then give the
        # task its input.
        (
            {"InputPath": None, "Parameters": {"who.$": "$$.Execution.Input.who"}},
            {"who": "z"},
            "Hello, z",
        ),
    ],
)
async def test_task_paths(fields: dict[str, Any], given: Any, expected: Any) -> None:
    state = {"Type": "Task", "Resource": "HelloFunction", **fields}
    r = await run_state_machine(single(state), given, steps={"HelloFunction": hello})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected


async def test_inputpath_example() -> None:
    # Developer guide, "InputPath, Parameters and ResultSelector", InputPath example:
    # "InputPath": "$.dataset2" gives {"val1": "a", "val2": "b", "val3": "c"}.
    given = {
        "comment": "Example for InputPath.",
        "dataset1": {"val1": 1, "val2": 2, "val3": 3},
        "dataset2": {"val1": "a", "val2": "b", "val3": "c"},
    }
    r = await run_state_machine(single({"Type": "Pass", "InputPath": "$.dataset2"}), given)
    assert r.output == {"val1": "a", "val2": "b", "val3": "c"}


async def test_resultselector_example() -> None:
    # Developer guide, "InputPath, Parameters and ResultSelector", ResultSelector example:
    # from an EMR createCluster result keep ClusterId and ResourceType, placed at
    # "$.EMROutput".
    def create_cluster(_: Any) -> dict[str, Any]:
        return {
            "resourceType": "elasticmapreduce",
            "resource": "createCluster.sync",
            "output": {
                "SdkHttpMetadata": {
                    "HttpHeaders": {"Content-Length": "1112"},
                    "HttpStatusCode": 200,
                },
                "SdkResponseMetadata": {"RequestId": "1234-5678-9012"},
                "ClusterId": "AKIAIOSFODNN7EXAMPLE",
            },
        }

    state = {
        "Type": "Task",
        "Resource": "createCluster",
        "ResultSelector": {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"},
        "ResultPath": "$.EMROutput",
    }
    r = await run_state_machine(single(state), {"x": 1}, steps={"createCluster": create_cluster})
    assert r.output == {
        "x": 1,
        "EMROutput": {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"},
    }


async def test_payload_template_spec_example() -> None:
    # ASL spec, "Payload Template": the example Parameters (without its $$.DayOfWeek fields)
    # on the input {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]}.
    state = {
        "Type": "Pass",
        "Parameters": {
            "flagged": True,
            "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[-3:]"},
        },
    }
    r = await run_state_machine(single(state), {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]})
    assert r.output == {"flagged": True, "parts": {"first": 0, "last3": [30, 40, 50]}}


@pytest.mark.parametrize(
    ("fields", "given", "error"),
    [
        # ASL spec, "Errors": States.ResultPathMatchFailure, "a state's ResultPath field
        # cannot be applied to the input the state received".
        ({"Result": 1, "ResultPath": "$.a.b"}, {"a": 5}, "States.ResultPathMatchFailure"),
        # ASL spec, "Errors": States.ParameterPathFailure, "a field in a state's Parameters
        # whose name ends in .$ tries to resolve a path that does not exist".
        ({"Parameters": {"x.$": "$.missing"}}, {"a": 1}, "States.ParameterPathFailure"),
        # ASL spec, "Errors": States.Runtime for InputPath/OutputPath that select nothing.
        ({"InputPath": "$.missing"}, {"a": 1}, "States.Runtime"),
        ({"OutputPath": "$.missing"}, {"a": 1}, "States.Runtime"),
    ],
)
async def test_path_errors(fields: dict[str, Any], given: Any, error: str) -> None:
    r = await run_state_machine(single({"Type": "Pass", **fields}), given)
    assert (r.status, r.error) == ("FAILED", error)


START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_context_object_fields() -> None:
    # Developer guide, "Accessing execution data from the Context object": Execution.Id,
    # Execution.Input, Execution.Name, Execution.StartTime, State.Name, State.EnteredTime and
    # StateMachine.Name, read with "$$." in Parameters (State.RetryCount: Task states only).
    parameters = {
        "id.$": "$$.Execution.Id",
        "input.$": "$$.Execution.Input",
        "name.$": "$$.Execution.Name",
        "start.$": "$$.Execution.StartTime",
        "state.$": "$$.State.Name",
        "entered.$": "$$.State.EnteredTime",
        "machine.$": "$$.StateMachine.Name",
    }
    definition = chain(
        ("First", {"Type": "Wait", "Seconds": 600}),
        ("Second", {"Type": "Pass", "Parameters": parameters}),
    )
    r = await run_state_machine(definition, {"k": "v"}, start=START, name="orders")
    assert r.status == "COMPLETED", (r.error, r.cause)
    out = r.output
    # the example's "arn:aws:states:us-east-1:123456789012:execution:stateMachineName:
    # executionName", with the app's default region and account (AWS's example ones)
    assert out["id"] == f"arn:aws:states:us-east-1:123456789012:execution:orders:{out['name']}"
    assert out["name"] == r.execution_id
    assert out["input"] == {"k": "v"}  # the execution's input, not the state's
    assert isinstance(out["name"], str) and out["name"]
    assert out["state"] == "Second"
    assert out["machine"] == "orders"
    # ASL spec, "Timestamps": ISO 8601 / RFC3339 strings; the execution started at START and
    # the second state entered 600 s later (plus the little real time the run took).
    start, entered = _instant(out["start"]), _instant(out["entered"])
    assert 0 <= (start - START).total_seconds() < 5
    assert 600 <= (entered - START).total_seconds() < 605


async def test_context_retry_count() -> None:
    # Developer guide, "Context object": State.RetryCount counts the retries of the state so
    # far (0 on the first attempt).
    counts: list[int] = []

    def flaky(event: dict[str, int]) -> int:
        counts.append(event["retry"])
        if len(counts) < 3:
            raise RuntimeError("again")
        return event["retry"]

    state = {
        "Type": "Task",
        "Resource": "flaky",
        "Parameters": {"retry.$": "$$.State.RetryCount"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}],
    }
    r = await run_state_machine(single(state), {}, steps={"flaky": flaky})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert counts == [0, 1, 2]
    assert r.output == 2


# Developer guide, "Intrinsic functions for JSONPath in Step Functions": each function's
# documented example, used in a Parameters field.
INTRINSIC_CASES: list[tuple[str, Any, Any]] = [
    (
        "States.Format('Hello, my name is {}.', $.name)",
        {"name": "Arnav"},
        "Hello, my name is Arnav.",
    ),
    (
        "States.StringToJson($.escapedJsonString)",
        {"escapedJsonString": '{"foo": "bar"}'},
        {"foo": "bar"},
    ),
    ("States.JsonToString($.unescapedJson)", {"unescapedJson": {"foo": "bar"}}, '{"foo":"bar"}'),
    (
        "States.Array('Foo', 2020, $.someJson, null)",
        {"someJson": {"random": "abcdefghijklmnopqrstuvwxyz"}},
        ["Foo", 2020, {"random": "abcdefghijklmnopqrstuvwxyz"}, None],
    ),
    (
        "States.ArrayPartition($.inputArray, 4)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
        [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
    ),
    (
        "States.ArrayContains($.inputArray, $.lookingFor)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5},
        True,
    ),
    ("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
    (
        "States.ArrayGetItem($.inputArray, $.index)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5},
        6,
    ),
    ("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
    ("States.ArrayUnique($.inputArray)", {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}, [1, 2, 3, 4]),
    (
        "States.Base64Encode($.input)",
        {"input": "Data to encode"},
        base64.b64encode(b"Data to encode").decode(),
    ),
    ("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
    (
        "States.Hash($.Data, $.Algorithm)",
        {"Data": "input data", "Algorithm": "SHA-1"},
        hashlib.sha1(b"input data").hexdigest(),
    ),
    (
        "States.JsonMerge($.json1, $.json2, false)",
        {"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}},
        {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
    ),
    ("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
    (
        "States.StringSplit($.inputString, $.splitter)",
        {"inputString": "1,2,3,4,5", "splitter": ","},
        ["1", "2", "3", "4", "5"],
    ),
    (
        "States.StringSplit($.inputString, $.splitter)",
        {"inputString": "This.is+a,test=string", "splitter": ".+,="},
        ["This", "is", "a", "test", "string"],
    ),
    # Intrinsic functions nest: an argument may be another intrinsic function.
    ("States.ArrayLength(States.StringSplit('a b c', ' '))", {}, 3),
    # The Context object and variables are allowed as arguments.
    ("States.Format('{} at {}', $.x, $$.State.Name)", {"x": "here"}, "here at S"),
]


@pytest.mark.parametrize(("expression", "given", "expected"), INTRINSIC_CASES)
async def test_intrinsic_functions(expression: str, given: Any, expected: Any) -> None:
    state = {"Type": "Pass", "Parameters": {"value.$": expression}}
    r = await run_state_machine(single(state), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"value": expected}


async def test_random_intrinsics_are_in_range() -> None:
    # Developer guide, "Intrinsic functions": States.MathRandom(start, end) returns a number
    # in [start, end); States.UUID() returns a version 4 UUID.
    state = {
        "Type": "Pass",
        "Parameters": {"n.$": "States.MathRandom($.start, $.end)", "id.$": "States.UUID()"},
    }
    r = await run_state_machine(single(state), {"start": 1, "end": 999})
    assert 1 <= r.output["n"] < 999
    assert uuid.UUID(r.output["id"]).version == 4


async def test_intrinsics_in_resultselector() -> None:
    # Developer guide, "Intrinsic functions": allowed in ResultSelector as in Parameters.
    state = {
        "Type": "Task",
        "Resource": "parts",
        "ResultSelector": {"joined.$": "States.Format('{}-{}', $.parts[0], $.parts[1])"},
    }
    r = await run_state_machine(single(state), {}, steps={"parts": lambda _: {"parts": ["a", "b"]}})
    assert r.output == {"joined": "a-b"}


async def test_variables_visible_to_later_states() -> None:
    # Developer guide, "Passing data between states with variables": a variable assigned in
    # one state can be read with $name in any later state.
    definition = chain(
        (
            "Store",
            {"Type": "Pass", "Assign": {"productName": "product1", "count": 42, "available": True}},
        ),
        ("Between", {"Type": "Pass", "Result": "unrelated"}),
        (
            "Use",
            {
                "Type": "Pass",
                "Parameters": {"name.$": "$productName", "n.$": "$count", "ok.$": "$available"},
            },
        ),
    )
    r = await run_state_machine(definition, {})
    assert r.output == {"name": "product1", "n": 42, "ok": True}


async def test_assign_reads_the_result_and_previous_values() -> None:
    # Developer guide, "Passing data between states with variables", "Evaluation order in an
    # assign field": all values are computed from the variables as they were when the state
    # began; in a JSONPath Task, $ in Assign is the state's result.
    definition = chain(
        ("Init", {"Type": "Pass", "Assign": {"x": 0}}),
        (
            "Task",
            {
                "Type": "Task",
                "Resource": "HelloFunction",
                "Assign": {"x": 1, "y.$": "$x", "r.$": "$"},
            },
        ),
        ("Read", {"Type": "Pass", "Parameters": {"x.$": "$x", "y.$": "$y", "r.$": "$r"}}),
    )
    r = await run_state_machine(definition, {"who": "v"}, steps={"HelloFunction": hello})
    assert r.output == {"x": 1, "y": 0, "r": "Hello, v"}


async def test_undefined_variable_fails() -> None:
    # Developer guide, "Passing data between states with variables": a reference to a
    # variable that was never assigned is an error.
    r = await run_state_machine(single({"Type": "Pass", "Parameters": {"v.$": "$nope"}}), {})
    assert r.status == "FAILED"


async def test_counter_loop_with_intrinsic_assign() -> None:
    # Developer guide, "Passing data between states with variables": JSONPath Assign values
    # ending in ".$" may be intrinsic functions over variables, here a loop counter.
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"i": 0}, "Next": "Loop"},
            "Loop": {
                "Type": "Choice",
                "Choices": [{"Variable": "$i", "NumericLessThan": 3, "Next": "Bump"}],
                "Default": "Done",
            },
            "Bump": {"Type": "Pass", "Assign": {"i.$": "States.MathAdd($i, 1)"}, "Next": "Loop"},
            "Done": {"Type": "Pass", "Parameters": {"i.$": "$i"}, "End": True},
        },
    }
    r = await run_state_machine(definition, {})
    assert r.output == {"i": 3}
    assert r.states_entered().count("Bump") == 3
