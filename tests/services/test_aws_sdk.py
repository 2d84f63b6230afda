"""``arn:aws:states:::aws-sdk:SERVICE:ACTION`` against the moto emulator: parameters in the
API's PascalCase, the response as Step Functions returns it, and errors named as Step Functions
names them.

Sources: Step Functions developer guide, "Learning to use AWS service SDK integrations in Step
Functions" (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html):
the Resource names the service in lowercase and the action in camelCase, parameters are
PascalCase, and an error is ``ServiceName.ErrorName`` in PascalCase with an ``Exception``
suffix even where the API reference names the error without one (``S3.NoSuchKeyException``);
the DynamoDB Query, S3 GetObject and SQS ReceiveMessage API references for the responses."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest

import legato
from legato.core.events import StateExited, StepFailed
from legato.testing import StateMachineRun, run_state_machine
from tests.aws_emulator import Emulator
from tests.statemachine.machines import chain, single

SDK = "arn:aws:states:::aws-sdk:"
Client = Callable[[str], Any]


@pytest.fixture
def aws(aws_emulator: Emulator) -> Iterator[Client]:
    """botocore clients on the emulator, to set up and look at what the state machine did."""
    made: list[Any] = []
    session = botocore.session.get_session()

    def client(service: str) -> Any:
        made.append(session.create_client(service, endpoint_url=aws_emulator.url))
        return made[-1]

    yield client
    for one in made:
        one.close()


def unique(prefix: str) -> str:
    """A resource name no other test of the session uses (they share the emulator)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def run(emulator: Emulator, definition: dict[str, Any], input: Any = None) -> StateMachineRun:
    app = legato.App(aws=legato.AwsSettings(endpoint_url=emulator.url))
    return await run_state_machine(definition, input, app=app)


def sdk_task(call: str, parameters: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": SDK + call, "Parameters": parameters, **more}


def catch_all(**more: Any) -> dict[str, Any]:
    """Catch every error into ``$.error`` and end: the test reads Error and Cause."""
    return {
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
        **more,
    }


def with_catch(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "S",
        "States": {"S": {**task, "End": True}, "Caught": {"Type": "Pass", "End": True}},
    }


def make_table(aws: Client) -> str:
    name = unique("orders")
    dynamodb = aws("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "order", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for customer, order, total in (("ann", 1, "10"), ("ann", 2, "25"), ("bob", 1, "7")):
        item = {"customer": {"S": customer}, "order": {"N": str(order)}, "total": {"N": total}}
        dynamodb.put_item(TableName=name, Item=item)
    return name


# --- DynamoDB query -------------------------------------------------------------------------------
async def test_dynamodb_query_returns_the_items_in_dynamodbs_shape(
    aws_emulator: Emulator, aws: Client
) -> None:
    """Query's response: ``Items`` as typed attribute values, ``Count``, ``ScannedCount``;
    no SDK metadata."""
    table = make_table(aws)
    task = sdk_task(
        "dynamodb:query",
        {
            "TableName": table,
            "KeyConditionExpression": "customer = :c",
            "ExpressionAttributeValues": {":c": {"S.$": "$.customer"}},
        },
    )
    r = await run(aws_emulator, single(task), {"customer": "ann"})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {
        "Items": [
            {"customer": {"S": "ann"}, "order": {"N": "1"}, "total": {"N": "10"}},
            {"customer": {"S": "ann"}, "order": {"N": "2"}, "total": {"N": "25"}},
        ],
        "Count": 2,
        "ScannedCount": 2,
    }


async def test_dynamodb_errors_are_named_dynamodb_with_the_sdk_spelling(
    aws_emulator: Emulator, aws: Client
) -> None:
    """An aws-sdk error is ``<Service>.<Exception>`` with the service as the SDK spells it
    (``DynamoDb``; the optimized integration says ``DynamoDB``), and Catch matches it."""
    table = make_table(aws)
    put = sdk_task(
        "dynamodb:putItem",
        {
            "TableName": table,
            "Item": {"customer": {"S": "ann"}, "order": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(customer)",
        },
        Catch=[
            {
                "ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"],
                "ResultPath": "$.error",
                "Next": "Caught",
            }
        ],
    )
    r = await run(aws_emulator, with_catch(put), {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["error"]["Error"] == "DynamoDb.ConditionalCheckFailedException"
    assert re.search(
        r"\(Service: DynamoDb, Status Code: 400, Request ID: .+\)$", r.output["error"]["Cause"]
    )

    missing = sdk_task(
        "dynamodb:query",
        {
            "TableName": unique("missing"),
            "KeyConditionExpression": "customer = :c",
            "ExpressionAttributeValues": {":c": {"S": "ann"}},
        },
    )
    r = await run(aws_emulator, single(missing))
    assert r.status == "FAILED"
    assert r.error == "DynamoDb.ResourceNotFoundException"


async def test_an_error_the_model_does_not_declare_is_the_services_base_exception(
    aws_emulator: Emulator, aws: Client
) -> None:
    """DynamoDB's ``ValidationException`` is in no operation's model: the AWS SDK for Java
    raises the service's base exception, so Step Functions' error is
    ``DynamoDb.DynamoDbException``; the wire code is in the cause."""
    table = make_table(aws)
    put = sdk_task("dynamodb:putItem", {"TableName": table, "Item": {"customer": {"S": "x"}}})
    r = await run(aws_emulator, single(put))
    assert r.status == "FAILED"
    assert r.error == "DynamoDb.DynamoDbException"
    assert r.cause is not None and "Error Code: ValidationException" in r.cause


# --- S3 getObject ---------------------------------------------------------------------------------
async def test_s3_get_object_returns_the_body_as_text(aws_emulator: Emulator, aws: Client) -> None:
    """GetObject: ``Body`` is the object's content as text, beside the object's headers
    (``ContentLength``, ``ContentType``, ``ETag``, ``LastModified`` as an ISO-8601 UTC time)."""
    bucket = unique("bucket")
    s3 = aws("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket=bucket, Key="orders/1.json", Body=b'{"id": 1}', ContentType="application/json"
    )
    selector = {
        "Body.$": "States.StringToJson($.Body)",
        "Length.$": "$.ContentLength",
        "Type.$": "$.ContentType",
        "ETag.$": "$.ETag",
        "LastModified.$": "$.LastModified",
    }
    task = sdk_task(
        "s3:getObject", {"Bucket": bucket, "Key": "orders/1.json"}, ResultSelector=selector
    )
    r = await run(aws_emulator, single(task))
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Body"] == {"id": 1}
    assert r.output["Length"] == 9
    assert r.output["Type"] == "application/json"
    assert r.output["ETag"].startswith('"')
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.output["LastModified"])


@pytest.mark.parametrize(
    ("missing", "error"),
    [("key", "S3.NoSuchKeyException"), ("bucket", "S3.NoSuchBucketException")],
)
async def test_s3_errors_get_the_exception_suffix(
    aws_emulator: Emulator, aws: Client, missing: str, error: str
) -> None:
    """The guide: S3 names its errors without a suffix (``NoSuchKey``); Step Functions adds
    ``Exception``."""
    bucket = unique("bucket")
    if missing == "key":
        aws("s3").create_bucket(Bucket=bucket)
    task = sdk_task("s3:getObject", {"Bucket": bucket, "Key": "nothing-here"})
    r = await run(aws_emulator, single(task))
    assert r.status == "FAILED"
    assert r.error == error
    assert r.cause is not None and "Service: S3, Status Code: 404" in r.cause


# --- SQS receiveMessage ---------------------------------------------------------------------------
async def test_sqs_receive_message_returns_the_messages(
    aws_emulator: Emulator, aws: Client
) -> None:
    """ReceiveMessage: ``Messages``, each with ``MessageId``, ``ReceiptHandle``, ``MD5OfBody``
    and ``Body``."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("jobs"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"job": 7}')
    task = sdk_task(
        "sqs:receiveMessage",
        {"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 5},
    )
    r = await run(aws_emulator, single(task))
    assert r.status == "COMPLETED", (r.error, r.cause)
    (message,) = r.output["Messages"]
    assert set(message) >= {"MessageId", "ReceiptHandle", "MD5OfBody", "Body"}
    assert message["Body"] == '{"job": 7}'
    assert set(r.output) == {"Messages"}


async def test_sqs_missing_queue_is_named_by_the_model_not_the_wire_code(
    aws_emulator: Emulator, aws: Client
) -> None:
    """SQS answers ``AWS.SimpleQueueService.NonExistentQueue`` on the wire; the model's
    exception is ``QueueDoesNotExist``, so Step Functions' error is
    ``Sqs.QueueDoesNotExistException``."""
    url = aws("sqs").create_queue(QueueName=unique("gone"))["QueueUrl"]
    aws("sqs").delete_queue(QueueUrl=url)
    task = sdk_task("sqs:receiveMessage", {"QueueUrl": url}, **catch_all())
    r = await run(aws_emulator, with_catch(task), {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["error"]["Error"] == "Sqs.QueueDoesNotExistException"


# --- services whose botocore name differs, and errors that never reach AWS ------------------------
@pytest.mark.parametrize(
    ("call", "field"),
    [
        ("sfn:listStateMachines", "StateMachines"),  # botocore: stepfunctions
        ("eventbridge:listEventBuses", "EventBuses"),  # botocore: events
        ("cloudwatchlogs:describeLogGroups", "LogGroups"),  # botocore: logs
    ],
)
async def test_step_functions_service_names_reach_botocores_clients(
    aws_emulator: Emulator, call: str, field: str
) -> None:
    """The Resource's service is the SDK's id (``sfn``), not botocore's folder; the response's
    members are PascalCase even where the API's JSON is camelCase (``stateMachines``)."""
    r = await run(aws_emulator, single(sdk_task(call, {})))
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert field in r.output


async def test_camel_case_apis_take_and_give_pascal_case(aws_emulator: Emulator) -> None:
    """The guide's own example: ``sfn:startExecution``-style calls take ``StateMachineArn``
    though the API's member is ``stateMachineArn``; map keys (tags, items) are left alone."""
    name = unique("machine")
    definition = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
    create = sdk_task(
        "sfn:createStateMachine",
        {
            "Name": name,
            "Definition": definition,
            "RoleArn": "arn:aws:iam::123456789012:role/sfn",
            "Tags": [{"Key": "team", "Value": "orders"}],
        },
        ResultPath="$.created",
    )
    describe = sdk_task(
        "sfn:describeStateMachine",
        {"StateMachineArn.$": "$.created.StateMachineArn"},
        ResultSelector={"Name.$": "$.Name", "Status.$": "$.Status"},
    )
    r = await run(aws_emulator, chain(("Create", create), ("Describe", describe)), {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"Name": name, "Status": "ACTIVE"}


async def test_bad_parameters_are_states_task_failed(aws_emulator: Emulator) -> None:
    """What the SDK refuses before calling (a required parameter missing, an unknown one) is
    no service error: ``States.TaskFailed``, and the cause says what is wrong."""
    task = sdk_task("s3:getObject", {"Bucket": "b", "Colour": "red"})
    r = await run(aws_emulator, single(task))
    assert r.status == "FAILED"
    assert r.error == "States.TaskFailed"
    assert r.cause is not None and "Key" in r.cause and "Colour" in r.cause


async def test_retry_applies_to_sdk_errors(aws_emulator: Emulator, aws: Client) -> None:
    """The call is a durable step: the state's Retry runs it again on the named error (each
    attempt recorded), then Catch takes it."""
    task = sdk_task(
        "s3:getObject",
        {"Bucket": unique("nobucket"), "Key": "k"},
        Retry=[
            {"ErrorEquals": ["S3.NoSuchBucketException"], "MaxAttempts": 2, "IntervalSeconds": 1}
        ],
        **catch_all(),
    )
    r = await run(aws_emulator, with_catch(task), {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["error"]["Error"] == "S3.NoSuchBucketException"
    attempts = [e for e in r.history if isinstance(e, StepFailed)]
    assert len(attempts) == 3


async def test_aws_endpoint_url_from_the_environment(
    aws_emulator: Emulator, aws: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no endpoint in the app's settings, botocore's ``AWS_ENDPOINT_URL`` applies."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_emulator.url)
    bucket = unique("env")
    aws("s3").create_bucket(Bucket=bucket)
    task = sdk_task("s3:listObjectsV2", {"Bucket": bucket})
    r = await run_state_machine(single(task), None, app=legato.App())
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Name"] == bucket


async def test_the_apps_clients_are_closed_when_it_stops(aws_emulator: Emulator) -> None:
    """A client holds a connection pool: the app closes its clients when it shuts down, so no
    ResourceWarning (an error under this suite's warning filter) is left for the collector."""
    app = legato.App(aws=legato.AwsSettings(endpoint_url=aws_emulator.url))
    r = await run_state_machine(single(sdk_task("sqs:listQueues", {})), None, app=app)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert app.aws_clients.open_count() == 0


async def test_per_service_endpoints_and_unreachable_ones(aws_emulator: Emulator) -> None:
    """``AwsSettings.endpoints`` (botocore's service names) wins over ``endpoint_url``; a call
    that cannot connect never reached the service: ``States.TaskFailed`` (after the SDK's own
    attempts, ``max_attempts``)."""
    nowhere = "http://127.0.0.1:9"  # the discard port: nothing listens
    settings = legato.AwsSettings(
        endpoint_url=nowhere, endpoints={"sqs": aws_emulator.url}, max_attempts=1
    )
    definition = chain(
        ("Queues", sdk_task("sqs:listQueues", {}, ResultPath="$.queues")),
        ("Tables", sdk_task("dynamodb:listTables", {})),
    )
    r = await run_state_machine(definition, {}, app=legato.App(aws=settings))
    assert r.status == "FAILED"
    assert r.error == "States.TaskFailed"
    assert r.cause is not None and "DynamoDb ListTables: Could not connect" in r.cause
    exited = [e.state for e in r.history if isinstance(e, StateExited)]
    assert exited == ["Queues"]


async def test_on_sqlite_and_postgresql(
    aws_emulator: Emulator, aws: Client, any_db_url: str
) -> None:
    """The call and its recorded result on either store: a put, then a get of what was put."""
    table = make_table(aws)
    key = {"customer": {"S": "cy"}, "order": {"N": "9"}}
    definition = chain(
        ("Put", sdk_task("dynamodb:putItem", {"TableName": table, "Item": key}, ResultPath=None)),
        ("Get", sdk_task("dynamodb:getItem", {"TableName": table, "Key": key})),
    )
    app = legato.App(any_db_url, aws=legato.AwsSettings(endpoint_url=aws_emulator.url))
    app.register_state_machine("put_get", definition)
    async with app:
        handle = await app.start("put_get", {})
        assert await handle.result(timeout=60) == {"Item": key}
    assert app.aws_clients.open_count() == 0


async def test_wait_for_task_token_through_an_aws_sdk_call(
    aws_emulator: Emulator, aws: Client, db_url: str
) -> None:
    """``aws-sdk:sqs:sendMessage.waitForTaskToken``: the call sends the token (a message
    attribute here: the SDK's MessageBody is text); the state waits until a consumer that read
    the message answers with it (the app's ``send_task_success``); the state's output is that
    answer, not the SendMessage response."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("approvals"))["QueueUrl"]
    ask = sdk_task(
        "sqs:sendMessage.waitForTaskToken",
        {
            "QueueUrl": url,
            "MessageBody.$": "States.JsonToString($)",
            "MessageAttributes": {
                "token": {"DataType": "String", "StringValue.$": "$$.Task.Token"}
            },
        },
    )
    app = legato.App(db_url, aws=legato.AwsSettings(endpoint_url=aws_emulator.url))
    app.register_state_machine("approve", single(ask))
    async with app:
        handle = await app.start("approve", {"order": 42})
        messages: list[dict[str, Any]] = []
        for _ in range(30):  # long polls: the emulator answers as soon as the message is there
            answer = await asyncio.to_thread(
                sqs.receive_message,
                QueueUrl=url,
                WaitTimeSeconds=2,
                MessageAttributeNames=["All"],
            )
            messages = answer.get("Messages", [])
            if messages:
                break
        assert messages, await handle.status()
        assert json.loads(messages[0]["Body"]) == {"order": 42}
        token = messages[0]["MessageAttributes"]["token"]["StringValue"]
        await app.send_task_success(token, {"approved": True})
        assert await handle.result(timeout=60) == {"approved": True}
