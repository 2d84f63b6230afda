"""DynamoDB's optimized integration (developer guide, "Call DynamoDB APIs with Step
Functions"): getItem, putItem, updateItem, deleteItem against the emulator, their answers
with the AWS SDK for Java's metadata, and errors with the optimized prefix ``DynamoDB``."""

from __future__ import annotations

from typing import Any

import pytest

from legato.errors import InvalidDefinitionError
from tests.aws_emulator import Emulator
from tests.services.optimized_runs import client, run_machine, run_task, task, unique

ARN = "arn:aws:states:::dynamodb:"


@pytest.fixture
def table(aws_emulator: Emulator) -> str:
    name = unique("orders")
    client(aws_emulator, "dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _metadata(result: dict[str, Any]) -> None:
    assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert "RequestId" in result["SdkResponseMetadata"]


async def test_put_then_get_item(aws_emulator: Emulator, table: str) -> None:
    put = await run_task(
        aws_emulator,
        ARN + "putItem",
        {"TableName": table, "Item": {"id": {"S.$": "$.id"}, "total": {"N": "42"}}},
        {"id": "o-1"},
    )
    assert put.status == "COMPLETED", put.cause
    _metadata(put.output)
    got = await run_task(
        aws_emulator, ARN + "getItem", {"TableName": table, "Key": {"id": {"S": "o-1"}}}
    )
    assert got.status == "COMPLETED", got.cause
    assert got.output["Item"] == {"id": {"S": "o-1"}, "total": {"N": "42"}}
    _metadata(got.output)


async def test_update_item_returns_the_new_values(aws_emulator: Emulator, table: str) -> None:
    client(aws_emulator, "dynamodb").put_item(
        TableName=table, Item={"id": {"S": "o-2"}, "total": {"N": "1"}}
    )
    run = await run_task(
        aws_emulator,
        ARN + "updateItem",
        {
            "TableName": table,
            "Key": {"id": {"S": "o-2"}},
            "UpdateExpression": "SET #t = #t + :n",
            "ExpressionAttributeNames": {"#t": "total"},
            "ExpressionAttributeValues": {":n": {"N": "5"}},
            "ReturnValues": "UPDATED_NEW",
        },
    )
    assert run.status == "COMPLETED", run.cause
    assert run.output["Attributes"] == {"total": {"N": "6"}}


async def test_delete_item(aws_emulator: Emulator, table: str) -> None:
    ddb = client(aws_emulator, "dynamodb")
    ddb.put_item(TableName=table, Item={"id": {"S": "o-3"}})
    run = await run_task(
        aws_emulator,
        ARN + "deleteItem",
        {"TableName": table, "Key": {"id": {"S": "o-3"}}, "ReturnValues": "ALL_OLD"},
    )
    assert run.status == "COMPLETED", run.cause
    assert run.output["Attributes"] == {"id": {"S": "o-3"}}
    assert "Item" not in ddb.get_item(TableName=table, Key={"id": {"S": "o-3"}})


async def test_a_failed_condition_is_named_with_the_optimized_prefix(
    aws_emulator: Emulator, table: str
) -> None:
    client(aws_emulator, "dynamodb").put_item(TableName=table, Item={"id": {"S": "o-4"}})
    run = await run_task(
        aws_emulator,
        ARN + "putItem",
        {
            "TableName": table,
            "Item": {"id": {"S": "o-4"}},
            "ConditionExpression": "attribute_not_exists(id)",
        },
    )
    assert run.status == "FAILED"
    assert run.error == "DynamoDB.ConditionalCheckFailedException"


async def test_the_error_is_caught_by_its_name(aws_emulator: Emulator) -> None:
    definition = task(ARN + "getItem", {"TableName": unique("absent"), "Key": {"id": {"S": "x"}}})
    call = definition["States"]["Call"]
    del call["End"]
    call["Next"] = "Found"
    call["Catch"] = [{"ErrorEquals": ["DynamoDB.ResourceNotFoundException"], "Next": "Missing"}]
    definition["States"]["Found"] = {"Type": "Pass", "Result": "found", "End": True}
    definition["States"]["Missing"] = {"Type": "Pass", "Result": "missing", "End": True}
    run = await run_machine(aws_emulator, definition)
    assert run.status == "COMPLETED", run.cause
    assert run.output == "missing"


async def test_wait_for_task_token_is_not_an_optimized_dynamodb_pattern(
    aws_emulator: Emulator, table: str
) -> None:
    with pytest.raises(InvalidDefinitionError, match="does not support the .waitForTask"):
        await run_task(
            aws_emulator,
            ARN + "getItem.waitForTaskToken",
            {"TableName": table, "Key": {"id": {"S": "x"}}},
        )
