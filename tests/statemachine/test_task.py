"""Task states end to end (ASL spec, "Task State"; developer guide, "Task workflow state",
"Invoke an AWS Lambda function with Step Functions")."""

from __future__ import annotations

from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import single

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction"


def hello(event: dict[str, Any]) -> str:
    # Developer guide, "Specifying state output using ResultPath": the HelloFunction Lambda.
    return "Hello, " + str(event["who"])


WHO = {"who": "AWS Step Functions"}


@pytest.mark.parametrize(
    "resource",
    [
        # ASL spec, "Task State": Resource names the work to run.
        "HelloFunction",
        # Developer guide, "Task workflow state": a Lambda function ARN as Resource.
        LAMBDA_ARN,
    ],
)
async def test_resource_runs_the_step(resource: str) -> None:
    r = await run_state_machine(
        single({"Type": "Task", "Resource": resource}), WHO, steps={"HelloFunction": hello}
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    # ASL spec, "Task State": the task's result becomes the output (ResultPath "$").
    assert r.output == "Hello, AWS Step Functions"


async def test_lambda_invoke_integration() -> None:
    # Developer guide, "Invoke an AWS Lambda function with Step Functions": the optimized
    # integration takes FunctionName and Payload, and its result is the Invoke response with
    # the function's return value under "Payload" and StatusCode 200; the guide's example
    # keeps only the payload with OutputPath "$.Payload".
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": LAMBDA_ARN, "Payload.$": "$"},
    }
    r = await run_state_machine(single(state), WHO, steps={"HelloFunction": hello})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Payload"] == "Hello, AWS Step Functions"
    assert r.output["StatusCode"] == 200
    r = await run_state_machine(
        single({**state, "OutputPath": "$.Payload"}), WHO, steps={"HelloFunction": hello}
    )
    assert r.output == "Hello, AWS Step Functions"


async def test_lambda_invoke_with_a_plain_function_name() -> None:
    # Developer guide, "Invoke an AWS Lambda function": FunctionName may be the function's
    # name instead of its ARN.
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "HelloFunction", "Payload": {"who": "you"}},
        "ResultSelector": {"greeting.$": "$.Payload"},
    }
    r = await run_state_machine(single(state), {}, steps={"HelloFunction": hello})
    assert r.output == {"greeting": "Hello, you"}


async def test_lambda_invoke_jsonata() -> None:
    # Developer guide, "Invoke an AWS Lambda function" (JSONata): Arguments with FunctionName
    # and Payload; $states.result is the Invoke response.
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": LAMBDA_ARN, "Payload": {"who": "{% $states.input.name %}"}},
        "Output": "{% $states.result.Payload %}",
    }
    r = await run_state_machine(
        single(state, QueryLanguage="JSONata"), {"name": "Ana"}, steps={"HelloFunction": hello}
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == "Hello, Ana"


@pytest.mark.parametrize(
    ("extra", "given", "expected"),
    [
        # ASL spec, "Filters" example: InputPath "$.numbers", ResultPath "$.sum".
        (
            {"InputPath": "$.numbers", "ResultPath": "$.sum"},
            {"title": "Numbers to add", "numbers": {"val1": 3, "val2": 4}},
            {"title": "Numbers to add", "numbers": {"val1": 3, "val2": 4}, "sum": 7},
        ),
        # ASL spec, "Parameters": the task receives the Parameters' output.
        (
            {"Parameters": {"val1.$": "$.a", "val2": 10}},
            {"a": 1},
            11,
        ),
        # ASL spec, "ResultSelector": reshapes the raw result before ResultPath.
        (
            {"ResultSelector": {"total.$": "$"}, "ResultPath": "$.out"},
            {"val1": 1, "val2": 2},
            {"val1": 1, "val2": 2, "out": {"total": 3}},
        ),
    ],
)
async def test_task_dataflow(extra: dict[str, Any], given: Any, expected: Any) -> None:
    def add(numbers: dict[str, int]) -> int:
        return numbers["val1"] + numbers["val2"]

    r = await run_state_machine(
        single({"Type": "Task", "Resource": "Add", **extra}), given, steps={"Add": add}
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected


async def test_task_within_its_timeout_succeeds() -> None:
    # ASL spec, "Task State": TimeoutSeconds is the most a task may run; a quick task is
    # unaffected.
    r = await run_state_machine(
        single({"Type": "Task", "Resource": "HelloFunction", "TimeoutSeconds": 30}),
        WHO,
        steps={"HelloFunction": hello},
    )
    assert r.output == "Hello, AWS Step Functions"


async def test_jsonata_task_output_and_default() -> None:
    # Developer guide, "Transforming data with JSONata": without Output a Task's output is its
    # result; Output may combine $states.input and $states.result.
    def double(x: int) -> int:
        return x * 2

    base = {"Type": "Task", "Resource": "double", "Arguments": "{% $states.input.n %}"}
    r = await run_state_machine(
        single(base, QueryLanguage="JSONata"), {"n": 4}, steps={"double": double}
    )
    assert r.output == 8
    state = {**base, "Output": {"n": "{% $states.input.n %}", "twice": "{% $states.result %}"}}
    r = await run_state_machine(
        single(state, QueryLanguage="JSONata"), {"n": 4}, steps={"double": double}
    )
    assert r.output == {"n": 4, "twice": 8}
