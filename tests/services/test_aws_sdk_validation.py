"""Validation of ``aws-sdk`` Resources against botocore's service models (issue 13, items 3
and 7): an unknown service or action is a validation error that names the nearest valid one,
wherever a definition is checked (registering it in an app, the HTTP API, the CLI). No
emulator: the models ship with botocore."""

from __future__ import annotations

from typing import Any

import pytest

import legato
from legato.errors import InvalidDefinitionError
from tests.statemachine.machines import single


def sdk(call: str) -> dict[str, Any]:
    return single({"Type": "Task", "Resource": f"arn:aws:states:::aws-sdk:{call}"})


def problems_of(definition: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidDefinitionError) as raised:
        legato.App().register_state_machine("m", definition)
    return [f"{p.path}: {p.rule}" for p in raised.value.problems]


@pytest.mark.parametrize(
    ("call", "nearest"),
    [
        ("dynamo:query", "did you mean 'dynamodb'?"),
        ("stepfunctions:startExecution", "did you mean 'sfn'?"),  # botocore's name, not SFN's
        ("logs:putLogEvents", "did you mean 'cloudwatchlogs'?"),
        ("events:putEvents", "did you mean 'eventbridge'?"),
        ("sqss:sendMessage", "did you mean 'sqs'?"),
    ],
)
def test_an_unknown_service_names_the_nearest(call: str, nearest: str) -> None:
    (problem,) = problems_of(sdk(call))
    service = call.split(":")[0]
    assert problem.startswith(
        f"$.States.S.Resource: {service!r} is not an AWS SDK service known to botocore"
    )
    assert problem.endswith(nearest)


@pytest.mark.parametrize(
    ("call", "nearest"),
    [
        ("s3:getObjects", "did you mean 'getObject'?"),
        ("dynamodb:Query", "did you mean 'query'?"),  # actions are camelCase
        ("sqs:recieveMessage", "did you mean 'receiveMessage'?"),
        ("sfn:startSyncExecutions", "did you mean 'startSyncExecution'?"),
    ],
)
def test_an_unknown_action_names_the_nearest(call: str, nearest: str) -> None:
    (problem,) = problems_of(sdk(call))
    service, action = call.split(":")
    assert f"{action!r} is not an action of the AWS SDK service {service!r}" in problem
    assert problem.endswith(nearest)


def test_nothing_near_is_said_plainly() -> None:
    (problem,) = problems_of(sdk("zzzzzzzz:qqqq"))
    assert "did you mean" not in problem


def test_sync_is_not_an_aws_sdk_pattern() -> None:
    """The guide: AWS SDK integrations support Request Response and Wait for Callback only."""
    (problem,) = problems_of(sdk("ecs:runTask.sync"))
    assert problem == (
        "$.States.S.Resource: aws-sdk integrations support request-response and "
        ".waitForTaskToken only"
    )


@pytest.mark.parametrize(
    "call",
    [
        "s3:getObject",
        "s3:listObjectsV2",
        "dynamodb:query",
        "sqs:receiveMessage.waitForTaskToken",
        "sfn:startExecution",
        "eventbridge:putEvents",
        "cloudwatchlogs:putLogEvents",
        "acmpca:deleteCertificateAuthority",  # the guide's example: botocore's acm-pca
        "bedrockruntime:converse",
        "ec2:describeInstances",
    ],
)
def test_valid_calls_register(call: str) -> None:
    legato.App().register_state_machine("m", sdk(call))


def test_problems_inside_parallel_and_map_are_found() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [sdk("s3:getObjekt")],
            }
        },
    }
    (problem,) = problems_of(definition)
    assert problem.startswith("$.States.P.Branches[0].States.S.Resource: 'getObjekt'")
