"""``.waitForTaskToken`` through SQS, SNS and EventBridge (developer guide, "Wait for a
Callback with Task Token"): the state sends its token in a message and waits; a consumer
reads the message from the emulator and answers with the app's ``send_task_success``, or
with another state machine's ``aws-sdk:sfn:sendTaskSuccess`` / ``sendTaskFailure``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import legato
from tests.aws_emulator import Emulator
from tests.services.optimized_runs import app_for, client, environment, run_machine, task, unique

#: a consumer gives up after this many empty long polls (1 s each) rather than hang the test
POLLS = 30


def _queue(emulator: Emulator) -> tuple[str, str]:
    sqs = client(emulator, "sqs")
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return str(url), str(arn)


async def _next_message(emulator: Emulator, queue_url: str) -> Any:
    """The next message's body, as JSON, read from the emulator (long polls, no sleeps)."""
    sqs = client(emulator, "sqs")
    for _ in range(POLLS):
        answer = await asyncio.to_thread(sqs.receive_message, QueueUrl=queue_url, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            return json.loads(message["Body"])
    raise AssertionError("no message reached the queue")


def _waiting(resource: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return task(resource, parameters, ResultPath="$.answer", TimeoutSeconds=3600)


async def _answered_by_the_app(
    emulator: Emulator, definition: dict[str, Any], queue_url: str, token_of: Any
) -> Any:
    """Run ``definition``; the consumer answers the token it reads from ``queue_url``."""
    app = app_for(emulator)
    app.register_state_machine("waits", definition)
    async with environment(app, callback_grace=None):  # only the consumer answers
        handle = await app.start("waits", {"order": "o-1"})
        token = token_of(await _next_message(emulator, queue_url))
        await app.send_task_success(token, {"approved": True})
        result = await handle.result(timeout=30)
    return result


async def test_sqs_wait_for_task_token(aws_emulator: Emulator) -> None:
    url, _ = _queue(aws_emulator)
    definition = _waiting(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        {"QueueUrl": url, "MessageBody": {"Input.$": "$", "TaskToken.$": "$$.Task.Token"}},
    )
    seen: list[Any] = []

    def token_of(body: Any) -> str:
        seen.append(body["Input"])
        return str(body["TaskToken"])

    result = await _answered_by_the_app(aws_emulator, definition, url, token_of)
    assert seen == [{"order": "o-1"}]
    assert result == {"order": "o-1", "answer": {"approved": True}}


async def test_sns_wait_for_task_token(aws_emulator: Emulator) -> None:
    url, arn = _queue(aws_emulator)
    sns = client(aws_emulator, "sns")
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    definition = _waiting(
        "arn:aws:states:::sns:publish.waitForTaskToken",
        {"TopicArn": topic, "Message": {"TaskToken.$": "$$.Task.Token"}},
    )
    result = await _answered_by_the_app(aws_emulator, definition, url, lambda b: b["TaskToken"])
    assert result["answer"] == {"approved": True}


async def test_eventbridge_wait_for_task_token(aws_emulator: Emulator) -> None:
    url, arn = _queue(aws_emulator)
    events = client(aws_emulator, "events")
    bus, rule = unique("bus"), unique("rule")
    events.create_event_bus(Name=bus)
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    entry = {
        "EventBusName": bus,
        "Source": "shop",
        "DetailType": "Approve",
        "Detail": {"TaskToken.$": "$$.Task.Token"},
    }
    definition = _waiting(
        "arn:aws:states:::events:putEvents.waitForTaskToken", {"Entries": [entry]}
    )
    result = await _answered_by_the_app(
        aws_emulator, definition, url, lambda event: event["detail"]["TaskToken"]
    )
    assert result["answer"] == {"approved": True}


def _answering_machine(action: str, **parameters: Any) -> dict[str, Any]:
    """A machine that answers the token in its input with ``aws-sdk:sfn:ACTION``."""
    return task(f"arn:aws:states:::aws-sdk:sfn:{action}", {"TaskToken.$": "$.token", **parameters})


async def _answered_by_a_machine(emulator: Emulator, answer: dict[str, Any]) -> tuple[Any, Any]:
    """A waiting machine and a machine that answers it: (the answerer's result, the
    waiter's result or the error it failed with)."""
    url, _ = _queue(emulator)
    app = app_for(emulator)
    app.register_state_machine(
        "waits",
        _waiting(
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            {"QueueUrl": url, "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
        ),
    )
    app.register_state_machine("answers", answer)
    async with environment(app, callback_grace=None):  # only the consumer answers
        waiting = await app.start("waits", {"order": "o-2"})
        token = (await _next_message(emulator, url))["TaskToken"]
        answering = await app.start("answers", {"token": token})
        answered = await answering.result(timeout=30)
        try:
            outcome: Any = await waiting.result(timeout=30)
        except legato.ExecutionFailedError as exc:
            outcome = exc
    return answered, outcome


async def test_send_task_success_from_a_state_machine(aws_emulator: Emulator) -> None:
    answered, outcome = await _answered_by_a_machine(
        aws_emulator, _answering_machine("sendTaskSuccess", Output='{"approved": true}')
    )
    assert answered == {}  # SendTaskSuccess answers with an empty object
    assert outcome == {"order": "o-2", "answer": {"approved": True}}


async def test_send_task_failure_from_a_state_machine(aws_emulator: Emulator) -> None:
    _, outcome = await _answered_by_a_machine(
        aws_emulator, _answering_machine("sendTaskFailure", Error="Rejected", Cause="too big")
    )
    assert isinstance(outcome, legato.ExecutionFailedError)
    assert (outcome.error_type, outcome.message) == ("Rejected", "too big")


async def test_send_task_success_with_an_unknown_token(aws_emulator: Emulator) -> None:
    run = await run_machine(
        aws_emulator,
        _answering_machine("sendTaskSuccess", Output="{}"),
        {"token": "not-a-token"},
    )
    assert run.status == "FAILED"
    assert run.error == "Sfn.InvalidTokenException"


async def test_send_task_heartbeat_on_a_closed_token(aws_emulator: Emulator) -> None:
    url, _ = _queue(aws_emulator)
    app = app_for(aws_emulator)
    app.register_state_machine(
        "waits",
        _waiting(
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            {"QueueUrl": url, "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
        ),
    )
    app.register_state_machine("beats", _answering_machine("sendTaskHeartbeat"))
    async with environment(app, callback_grace=None):  # only the consumer answers
        waiting = await app.start("waits", {})
        token = (await _next_message(aws_emulator, url))["TaskToken"]
        await app.send_task_success(token, "done")
        await waiting.result(timeout=30)
        beating = await app.start("beats", {"token": token})
        try:
            await beating.result(timeout=30)
        except legato.ExecutionFailedError as exc:
            error = exc.error_type
    assert error == "Sfn.TaskTimedOutException"
