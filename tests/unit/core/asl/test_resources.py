"""What a Task's Resource runs (legato.core.asl.resources)."""

from __future__ import annotations

import pytest

from legato.core.asl.resources import (
    Activity,
    ChildExecution,
    HttpInvoke,
    Integration,
    LambdaInvoke,
    Resource,
    StepResource,
    UnsupportedResource,
    function_name_of,
    parse_resource,
    workflow_name_of,
)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        # A step registered in the app, by name.
        ("charge", StepResource("charge", wait_for_token=False)),
        ("orders.charge", StepResource("orders.charge")),
        ("approve.waitForTaskToken", StepResource("approve", wait_for_token=True)),
        # Guide "Invoke an AWS Lambda function": a function ARN runs the step of that name.
        (
            "arn:aws:lambda:us-east-1:123456789012:function:AddressFinder",
            StepResource(
                "AddressFinder",
                function="arn:aws:lambda:us-east-1:123456789012:function:AddressFinder",
            ),
        ),
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:ship-it:prod",
            StepResource(
                "ship-it", function="arn:aws:lambda:eu-west-1:123456789012:function:ship-it:prod"
            ),
        ),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
            StepResource("f", function="arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"),
        ),
        (
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
            StepResource("f", function="arn:aws-cn:lambda:cn-north-1:123456789012:function:f"),
        ),
        # Guide "Discover service integration patterns": Lambda invoke, with a task token.
        ("arn:aws:states:::lambda:invoke", LambdaInvoke(wait_for_token=False)),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", LambdaInvoke(wait_for_token=True)),
        # Guide "Start a new AWS Step Functions state machine execution".
        ("arn:aws:states:::states:startExecution", ChildExecution("fire")),
        ("arn:aws:states:::states:startExecution.sync", ChildExecution("sync")),
        ("arn:aws:states:::states:startExecution.sync:2", ChildExecution("sync2")),
        ("arn:aws:states:::states:startExecution.waitForTaskToken", ChildExecution("token")),
        ("legato:workflow:ship", ChildExecution("sync", "ship")),
        # Guide "Learn about Activities in Step Functions": a worker polls for the activity.
        ("arn:aws:states:us-east-1:123456789012:activity:approve", Activity("approve")),
        ("arn:aws-us-gov:states:us-gov-west-1:123456789012:activity:a.b-c_d", Activity("a.b-c_d")),
        # Guide "Integrating optimized services" and "Discover service integration patterns".
        ("arn:aws:states:::sqs:sendMessage", Integration("sqs", "sendMessage")),
        ("arn:aws:states:::dynamodb:putItem", Integration("dynamodb", "putItem")),
        (
            "arn:aws:states:::sns:publish.waitForTaskToken",
            Integration("sns", "publish", pattern="token"),
        ),
        ("arn:aws:states:::ecs:runTask.sync", Integration("ecs", "runTask", pattern="sync")),
        (
            "arn:aws:states:::batch:submitJob.sync:2",
            Integration("batch", "submitJob", pattern="sync2"),
        ),
        # Guide "Learning to use AWS service SDK integrations": any SDK action.
        ("arn:aws:states:::aws-sdk:s3:getObject", Integration("s3", "getObject", sdk=True)),
        (
            "arn:aws:states:::aws-sdk:sfn:startExecution.waitForTaskToken",
            Integration("sfn", "startExecution", sdk=True, pattern="token"),
        ),
        ("arn:aws-cn:states:::aws-sdk:acm-pca:listTags", Integration("acm-pca", "listTags", True)),
        # Guide "Call third-party APIs in Step Functions workflows".
        ("arn:aws:states:::http:invoke", HttpInvoke()),
        ("arn:aws:states:::http:invoke.waitForTaskToken", HttpInvoke(wait_for_token=True)),
    ],
)
def test_supported_resources(resource: str, expected: Resource) -> None:
    assert parse_resource(resource) == expected


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        # Not shaped as SERVICE:ACTION[.pattern]: named by the service they seem to be.
        ("arn:aws:states:::sqs", "Amazon SQS service integration Resource (sqs)"),
        ("arn:aws:states:::dynamodb:putItem.sync:3", "Amazon DynamoDB service integration"),
        ("arn:aws:states:::sns:publish:now", "Amazon SNS"),
        ("arn:aws:states:::aws-sdk:s3", "AWS SDK service integration Resource (aws-sdk:s3)"),
        ("arn:aws:states:::aws-sdk:s3:get-object", "AWS SDK service integration"),
        ("arn:aws:lambda:us-east-1:123456789012:layer:x", "not a resource Legato can run"),
        ("arn:aws:states:us-east-1:123456789012:activity:", "not a resource Legato can run"),
        ("legato:workflow:", "names no workflow"),
        ("", "empty Resource"),
    ],
)
def test_unsupported_resources(resource: str, message: str) -> None:
    with pytest.raises(UnsupportedResource) as raised:
        parse_resource(resource)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_unsupported_message_says_what_legato_runs() -> None:
    with pytest.raises(UnsupportedResource, match="child executions, activities, AWS service"):
        parse_resource("arn:aws:iam::123456789012:role/x")
    with pytest.raises(UnsupportedResource, match="expected SERVICE:ACTION"):
        parse_resource("arn:aws:states:::sqs")


@pytest.mark.parametrize(
    ("value", "name"),
    [
        # Lambda API "Invoke", FunctionName: name, name:qualifier, partial ARN, full ARN.
        ("my-function", "my-function"),
        ("my-function:v1", "my-function"),
        ("123456789012:function:my-function", "my-function"),
        ("arn:aws:lambda:us-west-2:123456789012:function:my-function", "my-function"),
        ("arn:aws:lambda:us-west-2:123456789012:function:my-function:$LATEST", "my-function"),
    ],
)
def test_function_name_of(value: str, name: str) -> None:
    assert function_name_of(value) == name


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("arn:aws:states:us-east-1:123456789012:stateMachine:ship", "ship"),
        ("arn:aws:states:us-east-1:123456789012:stateMachine:ship:3", "ship"),
        ("arn:aws:states:us-east-1:123456789012:stateMachine:ship:prod", "ship"),
        ("legato:workflow:ship", "ship"),
        ("ship", "ship"),
    ],
)
def test_workflow_name_of(value: str, name: str) -> None:
    assert workflow_name_of(value) == name
