"""SNS publish, SQS sendMessage and EventBridge putEvents, optimized (developer guide, "Send
messages to an Amazon SQS queue", "Publish messages to an Amazon SNS topic", "Add
EventBridge events with Step Functions"): a JSON value where the API wants text is sent
serialized, EventBridge entries get the execution's ARNs in Resources, and errors carry the
service's prefix (``SQS.``, ``SNS.``, ``EventBridge.FailedEntry``)."""

from __future__ import annotations

import json
from typing import Any

from tests.aws_emulator import Emulator
from tests.services.optimized_runs import client, run_machine, run_task, unique

EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:state_machine:"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:state_machine"


def _queue(emulator: Emulator) -> str:
    return str(client(emulator, "sqs").create_queue(QueueName=unique("q"))["QueueUrl"])


def _received(emulator: Emulator, queue_url: str) -> list[dict[str, Any]]:
    answer = client(emulator, "sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    )
    return list(answer.get("Messages", []))


async def test_sqs_send_message_serializes_a_json_body(aws_emulator: Emulator) -> None:
    queue = _queue(aws_emulator)
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::sqs:sendMessage",
        {"QueueUrl": queue, "MessageBody": {"order.$": "$.order", "items": [1, 2]}},
        {"order": "o-7"},
    )
    assert run.status == "COMPLETED", run.cause
    assert set(run.output) >= {"MessageId", "MD5OfMessageBody", "SdkHttpMetadata"}
    [message] = _received(aws_emulator, queue)
    assert message["Body"] == '{"order":"o-7","items":[1,2]}'
    assert message["MessageId"] == run.output["MessageId"]


async def test_sqs_text_body_is_sent_as_it_is(aws_emulator: Emulator) -> None:
    queue = _queue(aws_emulator)
    run = await run_task(
        aws_emulator, "arn:aws:states:::sqs:sendMessage", {"QueueUrl": queue, "MessageBody": "hi"}
    )
    assert run.status == "COMPLETED", run.cause
    assert [m["Body"] for m in _received(aws_emulator, queue)] == ["hi"]


async def test_sqs_send_message_with_jsonata_arguments(aws_emulator: Emulator) -> None:
    queue = _queue(aws_emulator)
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Arguments": {"QueueUrl": queue, "MessageBody": "{% {'n': $states.input.n + 1} %}"},
                "Output": "{% $states.result.MessageId %}",
                "End": True,
            }
        },
    }
    run = await run_machine(aws_emulator, definition, {"n": 1})
    assert run.status == "COMPLETED", run.cause
    [message] = _received(aws_emulator, queue)
    assert (message["Body"], message["MessageId"]) == ('{"n":2}', run.output)


async def test_sqs_missing_queue_error_name(aws_emulator: Emulator) -> None:
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::sqs:sendMessage",
        {"QueueUrl": f"{aws_emulator.url}/123456789012/{unique('absent')}", "MessageBody": "x"},
    )
    assert run.status == "FAILED"
    assert run.error == "SQS.QueueDoesNotExistException"


async def test_sns_publish_serializes_a_json_message(aws_emulator: Emulator) -> None:
    sns = client(aws_emulator, "sns")
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    queue = _queue(aws_emulator)
    queue_arn = client(aws_emulator, "sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::sns:publish",
        {"TopicArn": topic, "Message": {"status": "shipped"}, "Subject": "order"},
    )
    assert run.status == "COMPLETED", run.cause
    assert isinstance(run.output["MessageId"], str)
    assert run.output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    [message] = _received(aws_emulator, queue)
    assert message["Body"] == '{"status":"shipped"}'


async def test_sns_missing_topic_error_name(aws_emulator: Emulator) -> None:
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::sns:publish",
        {"TopicArn": f"arn:aws:sns:us-east-1:123456789012:{unique('absent')}", "Message": "x"},
    )
    assert run.status == "FAILED"
    assert run.error == "SNS.NotFoundException"


async def test_eventbridge_put_events(aws_emulator: Emulator) -> None:
    events = client(aws_emulator, "events")
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    queue = _queue(aws_emulator)
    queue_arn = client(aws_emulator, "sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    rule = unique("rule")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::events:putEvents",
        {
            "Entries": [
                {
                    "EventBusName": bus,
                    "Source": "shop",
                    "DetailType": "OrderShipped",
                    "Detail": {"order.$": "$.order"},
                }
            ]
        },
        {"order": "o-9"},
    )
    assert run.status == "COMPLETED", run.cause
    assert run.output["FailedEntryCount"] == 0
    assert isinstance(run.output["Entries"][0]["EventId"], str)
    [message] = _received(aws_emulator, queue)
    event = json.loads(message["Body"])
    assert event["detail"] == {"order": "o-9"}
    [execution, machine] = event["resources"]
    assert execution.startswith(EXECUTION_ARN)
    assert machine == MACHINE_ARN


async def test_eventbridge_failed_entry(aws_emulator: Emulator) -> None:
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::events:putEvents",
        {"Entries": [{"Source": "shop", "DetailType": "NoDetail"}]},
    )
    assert run.status == "FAILED"
    assert run.error == "EventBridge.FailedEntry"
    assert json.loads(run.cause or "")["FailedEntryCount"] == 1
