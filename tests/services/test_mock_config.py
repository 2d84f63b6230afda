"""Step Functions Local's mock configuration drives a definition that uses Lambda, DynamoDB,
SQS, aws-sdk and HTTP resources with no emulator and no network: mocked Task states return
their responses (or throw them, retried and caught as any Task error), counted per state per
execution across retries and Map iterations; a state the test case does not name runs for real.

Source: developer guide, "Using mocked service integrations for testing in Step Functions
Local" and "Configuration file for mocked service integrations"
(https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import legato
from legato.core.events import StateEntered, TimerStarted
from legato.testing import WorkflowEnvironment, run_state_machine

LAMBDA_OUT = {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}
SQS_OUT = {"MD5OfMessageBody": "3bcb6e8e", "MessageId": "3bcb6e8e-8b51"}
DDB_OUT: dict[str, Any] = {"SdkHttpMetadata": {"HttpStatusCode": 200}}

#: A lead is checked by a Lambda function, stored in DynamoDB, announced on SQS.
DEFINITION: dict[str, Any] = {
    "StartAt": "LambdaState",
    "States": {
        "LambdaState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "HelloFunction", "Payload.$": "$"},
            "ResultSelector": {"body.$": "$.Payload.body"},
            "ResultPath": "$.checked",
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3}],
            "Next": "PutLead",
        },
        "PutLead": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "Leads", "Item": {"id": {"S.$": "$.id"}}},
            "ResultPath": "$.stored",
            "Next": "SQSState",
        },
        "SQSState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/leads",
                           "MessageBody.$": "$.id"},
            "ResultSelector": {"id.$": "$.MessageId"},
            "ResultPath": "$.sent",
            "End": True,
        },
    },
}  # fmt: skip

CONFIG: dict[str, Any] = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "HappyPath": {
                    "LambdaState": "MockedLambdaSuccess",
                    "PutLead": "MockedPutItem",
                    "SQSState": "MockedSQSSuccess",
                },
                "RetryPath": {
                    "LambdaState": "MockedLambdaRetry",
                    "PutLead": "MockedPutItem",
                    "SQSState": "MockedSQSSuccess",
                },
                "HybridPath": {"PutLead": "MockedPutItem", "SQSState": "MockedSQSSuccess"},
                "TooFew": {"LambdaState": "MockedLambdaRetryTooFew"},
            }
        }
    },
    "MockedResponses": {
        "MockedLambdaSuccess": {"0": {"Return": LAMBDA_OUT}},
        "MockedPutItem": {"0": {"Return": DDB_OUT}},
        "MockedSQSSuccess": {"0": {"Return": SQS_OUT}},
        "MockedLambdaRetry": {
            "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}},
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}},
            "3": {"Return": LAMBDA_OUT},
        },
        "MockedLambdaRetryTooFew": {
            "0-1": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}}
        },
    },
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to reach a host fails the test: mocked states call nothing. (The event
    loop's self-pipe is a socketpair, which never connects.)"""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a network call was made: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    yield


def counted(run: legato.testing.StateMachineRun, state: str) -> int:
    return sum(1 for e in run.history if isinstance(e, StateEntered) and e.state == state)


async def test_happy_path_runs_with_no_aws_at_all() -> None:
    """The machine's name is the one the file has the test case for; each result goes through
    ResultSelector and ResultPath like a real one."""
    run = await run_state_machine(DEFINITION, {"id": "lead-1"}, mocks=CONFIG, test_case="HappyPath")
    assert run.status == "COMPLETED", (run.error, run.cause)
    assert run.output == {
        "id": "lead-1",
        "checked": {"body": "Hello from Lambda!"},
        "stored": DDB_OUT,
        "sent": {"id": "3bcb6e8e-8b51"},
    }
    assert run.states_entered() == ["LambdaState", "PutLead", "SQSState"]


async def test_a_file_path_works_as_the_dict(tmp_path: Path) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(CONFIG))
    run = await run_state_machine(
        DEFINITION, {"id": "lead-2"}, mocks=path, test_case="HappyPath",
        name="LambdaSQSIntegration",
    )  # fmt: skip
    assert run.status == "COMPLETED"
    assert run.output["sent"] == {"id": "3bcb6e8e-8b51"}


async def test_retry_path_walks_the_invocation_ranges() -> None:
    """ "0" throws, "1-2" throw, "3" returns: the Retrier's three retries (durable timers) use
    invocations 1, 2 and 3 of the same state in the same execution."""
    run = await run_state_machine(DEFINITION, {"id": "x"}, mocks=CONFIG, test_case="RetryPath")
    assert run.status == "COMPLETED", (run.error, run.cause)
    assert run.output["checked"] == {"body": "Hello from Lambda!"}
    assert len([e for e in run.history if isinstance(e, TimerStarted)]) == 3


async def test_invocations_past_the_ranges_fail_the_execution() -> None:
    """Two mocked answers, four invocations (one try and three retries): the third has no
    answer, a States.Runtime error that no Retrier (States.ALL) retries."""
    run = await run_state_machine(DEFINITION, {"id": "x"}, mocks=CONFIG, test_case="TooFew")
    assert run.status == "FAILED"
    assert run.error == "States.Runtime"
    assert run.cause is not None
    assert "'MockedLambdaRetryTooFew'" in run.cause and "invocation 2" in run.cause
    assert "'LambdaState'" in run.cause


async def test_a_state_the_test_case_does_not_name_runs_for_real() -> None:
    """HybridPath mocks DynamoDB and SQS only: the Lambda state calls its step, as Step
    Functions Local calls the real service for a state it has no mock for."""
    calls: list[Any] = []

    def hello(event: Any) -> dict[str, str]:
        calls.append(event)
        return {"body": "from the real step"}

    run = await run_state_machine(
        DEFINITION, {"id": "h"}, mocks=CONFIG, test_case="HybridPath",
        steps={"HelloFunction": hello},
    )  # fmt: skip
    assert run.status == "COMPLETED", (run.error, run.cause)
    assert calls == [{"id": "h"}]
    assert run.output["checked"] == {"body": "from the real step"}
    assert run.output["stored"] == DDB_OUT


# --- Throw, Retry and Catch --------------------------------------------------------------------
CATCHING: dict[str, Any] = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:updateItem",
            "Parameters": {"TableName": "Accounts", "Key": {"id": {"S": "a"}}},
            "Retry": [{"ErrorEquals": ["DynamoDb.ProvisionedThroughputExceededException"],
                       "IntervalSeconds": 1, "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"],
                       "ResultPath": "$.error", "Next": "Declined"}],
            "End": True,
        },
        "Declined": {"Type": "Pass", "End": True},
    },
}  # fmt: skip
THROTTLED = {"Throw": {"Error": "DynamoDb.ProvisionedThroughputExceededException", "Cause": "slow"}}
CONDITION = {"Throw": {"Error": "DynamoDb.ConditionalCheckFailedException", "Cause": "no funds"}}


def one_case(states: dict[str, str], responses: dict[str, Any]) -> dict[str, Any]:
    return {"StateMachines": {"M": {"TestCases": {"T": states}}}, "MockedResponses": responses}


async def test_a_throw_is_retried_then_caught() -> None:
    config = one_case({"Charge": "R"}, {"R": {"0-1": THROTTLED, "2": CONDITION}})
    run = await run_state_machine(CATCHING, {"n": 1}, mocks=config, test_case="T")
    assert run.status == "COMPLETED", (run.error, run.cause)
    assert run.output == {
        "n": 1,
        "error": {"Error": "DynamoDb.ConditionalCheckFailedException", "Cause": "no funds"},
    }
    assert run.states_entered() == ["Charge", "Declined"]


async def test_an_uncaught_throw_fails_with_its_error_and_cause() -> None:
    config = one_case({"Charge": "R"}, {"R": {"0-2": THROTTLED}})
    run = await run_state_machine(CATCHING, {}, mocks=config, test_case="T")
    assert run.status == "FAILED"
    assert (run.error, run.cause) == ("DynamoDb.ProvisionedThroughputExceededException", "slow")


async def test_a_throw_without_a_cause_has_none() -> None:
    config = one_case({"Charge": "R"}, {"R": {"0": {"Throw": {"Error": "Custom.Error"}}}})
    run = await run_state_machine(CATCHING, {}, mocks=config, test_case="T")
    assert run.status == "FAILED"
    assert run.error == "Custom.Error"
    assert not run.cause


# --- every resource kind, nested states, callbacks ------------------------------------------------
KINDS: dict[str, Any] = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Http", "States": {"Http": {
                    "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                    "Parameters": {"ApiEndpoint": "https://api.example.com/x", "Method": "GET",
                                   "Authentication": {"ConnectionArn":
                                       "arn:aws:events:us-east-1:123456789012:connection/c/1"}},
                    "ResultSelector": {"code.$": "$.StatusCode"}, "End": True}}},
                {"StartAt": "Ask", "States": {"Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
                                   "MessageBody": {"token.$": "$$.Task.Token"}},
                    "End": True}}},
                {"StartAt": "Each", "States": {"Each": {
                    "Type": "Map", "ItemsPath": "$.items",
                    "ItemProcessor": {"StartAt": "Fn", "States": {"Fn": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:fn",
                        "End": True}}},
                    "End": True}}},
            ],
            "End": True,
        }
    },
}  # fmt: skip
KINDS_CONFIG = one_case(
    {"Http": "HttpOk", "Ask": "Approved", "Fn": "Numbers"},
    {
        "HttpOk": {"0": {"Return": {"StatusCode": 200, "ResponseBody": {}}}},
        "Approved": {"0": {"Return": {"approved": True}}},
        "Numbers": {"0": {"Return": "first"}, "1-2": {"Return": "later"}},
    },
)


async def test_every_resource_kind_inside_parallel_and_map() -> None:
    """HTTP, a .waitForTaskToken callback (answered at once: no token is waited for) and a
    Lambda function in a Map, whose three iterations take invocations 0, 1 and 2 in turn."""
    run = await run_state_machine(
        KINDS, {"items": [1, 2, 3]}, mocks=KINDS_CONFIG, test_case="T", timeout=10
    )
    assert run.status == "COMPLETED", (run.error, run.cause)
    assert run.output == [{"code": 200}, {"approved": True}, ["first", "later", "later"]]


async def test_parameters_are_evaluated_as_for_a_real_call() -> None:
    """A mocked Task still evaluates its parameters: a path that selects nothing fails it as
    it would fail the real call."""
    definition = {"StartAt": "S", "States": {"S": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "q", "MessageBody.$": "$.missing"}, "End": True}}}  # fmt: skip
    config = one_case({"S": "R"}, {"R": {"0": {"Return": {}}}})
    run = await run_state_machine(definition, {}, mocks=config, test_case="T")
    assert run.status == "FAILED"
    assert run.error == "States.ParameterPathFailure"
    assert run.cause is not None and "$.missing" in run.cause


# --- the app's mocks ----------------------------------------------------------------------------
async def test_a_machine_without_the_test_case_runs_unmocked() -> None:
    app = legato.App()
    echo = "arn:aws:lambda:us-east-1:123456789012:function:echo"
    app.register_state_machine(
        "Other", {"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": echo, "End": True}}}
    )
    app.step(name="echo")(lambda event: {"echoed": event})
    app.use_mocks(CONFIG, "HappyPath")
    async with WorkflowEnvironment(app):
        handle = await app.start("Other", {"a": 1})
        assert await handle.result(timeout=30) == {"echoed": {"a": 1}}


async def test_a_runs_mocks_do_not_outlive_it() -> None:
    """``run_state_machine(app=..., mocks=...)`` leaves the app's own setting as it was."""
    app = legato.App()
    app.step(name="HelloFunction")(lambda event: {"body": "real"})
    run = await run_state_machine(
        DEFINITION, {"id": "1"}, app=app, mocks=CONFIG, test_case="HappyPath"
    )
    assert run.output["checked"] == {"body": "Hello from Lambda!"}
    assert app.machines.mocks is None


async def test_a_jsonata_task_takes_its_mock_through_output_and_assign() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "Ask", "Payload": "{% $states.input %}"},
                "Assign": {"answer": "{% $states.result.Payload.answer %}"},
                "Output": "{% {'said': $states.result.Payload.answer} %}",
                "Next": "Echo",
            },
            "Echo": {"Type": "Pass", "Output": "{% {'echo': $answer} %}", "End": True},
        },
    }
    config = {
        "StateMachines": {"M": {"TestCases": {"T": {"Ask": "R"}}}},
        "MockedResponses": {"R": {"0": {"Return": {"Payload": {"answer": 42}}}}},
    }
    run = await run_state_machine(definition, {"q": 1}, mocks=config, test_case="T")
    assert run.status == "COMPLETED", (run.error, run.cause)
    assert run.output == {"echo": 42}
