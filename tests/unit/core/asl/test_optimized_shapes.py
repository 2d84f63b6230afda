"""The optimized integrations' shapes, without AWS (``legato.core.asl.optimized_shapes``)."""

from __future__ import annotations

import pytest

from legato.core.asl import optimized_shapes as shapes
from legato.core.asl.errors import StatesError
from legato.core.asl.resources import Integration, parse_resource
from legato.core.events import JSON

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:m:e"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m"


def _integration(resource: str) -> Integration:
    parsed = parse_resource(resource)
    assert isinstance(parsed, Integration)
    return parsed


@pytest.mark.parametrize(
    "resource",
    [
        "dynamodb:getItem",
        "dynamodb:deleteItem",
        "sns:publish.waitForTaskToken",
        "sqs:sendMessage.waitForTaskToken",
        "events:putEvents.waitForTaskToken",
        "bedrock:invokeModel",
        "ecs:runTask.sync",
        "ecs:runTask.waitForTaskToken",
        "batch:submitJob.sync",
        "glue:startJobRun.sync",
        "athena:startQueryExecution.sync",
        "athena:getQueryResults",
    ],
)
def test_supported(resource: str) -> None:
    assert shapes.problem(_integration("arn:aws:states:::" + resource)) is None


@pytest.mark.parametrize(
    ("resource", "words"),
    [
        ("dynamodb:getItem.waitForTaskToken", "does not support the .waitForTaskToken"),
        ("sqs:sendMessage.sync", "does not support the .sync integration pattern"),
        ("batch:submitJob.sync:2", "does not support the .sync:2"),
        ("dynamodb:query", "the optimized dynamodb actions are deleteItem, getItem, putItem"),
        ("dynamodb:query", "arn:aws:states:::aws-sdk:dynamodb:query"),
        ("kinesis:putRecord", "Legato runs no optimized kinesis integration"),
    ],
)
def test_problems_are_named(resource: str, words: str) -> None:
    assert words in (shapes.problem(_integration("arn:aws:states:::" + resource)) or "")


def _request(resource: str, args: JSON) -> dict[str, JSON]:
    return shapes.request(_integration("arn:aws:states:::" + resource), args, EXECUTION, MACHINE)


def test_json_bodies_are_serialized_compactly() -> None:
    sent = _request("sqs:sendMessage", {"QueueUrl": "q", "MessageBody": {"a": [1, "é"]}})
    assert sent == {"QueueUrl": "q", "MessageBody": '{"a":[1,"é"]}'}
    assert _request("sns:publish", {"Message": {"k": None}})["Message"] == '{"k":null}'
    assert _request("sns:publish", {"Message": "plain"})["Message"] == "plain"


def test_event_entries_get_detail_text_and_the_execution_resources() -> None:
    sent = _request(
        "events:putEvents",
        {"Entries": [{"Detail": {"x": 1}, "Resources": ["arn:mine"]}, {"Detail": "{}"}]},
    )
    assert sent["Entries"] == [
        {"Detail": '{"x":1}', "Resources": ["arn:mine", EXECUTION, MACHINE]},
        {"Detail": "{}", "Resources": [EXECUTION, MACHINE]},
    ]


def test_bedrock_request_uses_the_api_names_and_json_defaults() -> None:
    sent = _request("bedrock:invokeModel", {"ModelId": "m", "Body": {"p": 1}, "Trace": "ENABLED"})
    assert sent == {
        "modelId": "m",
        "body": '{"p":1}',
        "trace": "ENABLED",
        "contentType": "application/json",
        "accept": "application/json",
    }
    with pytest.raises(ValueError, match="does not take Bogus"):
        _request("bedrock:invokeModel", {"ModelId": "m", "Bogus": 1})


def test_responses() -> None:
    glue = _integration("arn:aws:states:::glue:startJobRun")
    assert shapes.response(glue, {"JobName": "j"}, {"JobRunId": "r"}) == {
        "JobName": "j",
        "JobRunId": "r",
    }
    bedrock = _integration("arn:aws:states:::bedrock:invokeModel")
    assert shapes.response(bedrock, {}, {"body": '{"a":1}', "contentType": "application/json"}) == {
        "Body": {"a": 1},
        "ContentType": "application/json",
    }
    assert shapes.response(bedrock, {}, {"Body": "text", "ContentType": "text/plain"}) == {
        "Body": "text",
        "ContentType": "text/plain",
    }
    ddb = shapes.response(_integration("arn:aws:states:::dynamodb:putItem"), {}, {})
    assert isinstance(ddb, dict) and set(ddb) == {"SdkHttpMetadata", "SdkResponseMetadata"}


def test_a_refused_event_entry_fails_the_task() -> None:
    events = _integration("arn:aws:states:::events:putEvents")
    answer: JSON = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "MalformedDetail"}]}
    with pytest.raises(StatesError) as caught:
        shapes.response(events, {}, answer)
    assert caught.value.error == "EventBridge.FailedEntry"
    assert "MalformedDetail" in caught.value.cause
    assert shapes.response(events, {}, {"FailedEntryCount": 0}) == {"FailedEntryCount": 0}


def test_bedrock_input_location() -> None:
    bedrock = _integration("arn:aws:states:::bedrock:invokeModel")
    assert shapes.bedrock_input(bedrock, {"Input": {"S3Uri": "s3://b/k/x.json"}}) == (
        "b",
        "k/x.json",
    )
    assert shapes.bedrock_input(bedrock, {"Body": {}}) is None
    assert _request("bedrock:invokeModel", {"ModelId": "m", "Input": {"S3Uri": "s3://b/k"}}) == {
        "modelId": "m",
        "contentType": "application/json",
        "accept": "application/json",
    }
    for bad in ("s3://bucket", "https://b/k", "s3:///k"):
        with pytest.raises(ValueError, match="s3://BUCKET/KEY"):
            shapes.bedrock_input(bedrock, {"Input": {"S3Uri": bad}})
    with pytest.raises(ValueError, match="Body or Input, not both"):
        _request("bedrock:invokeModel", {"Body": {}, "Input": {"S3Uri": "s3://b/k"}})
