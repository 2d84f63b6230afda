"""A hybrid test case, as Step Functions Local runs one: the Lambda state is mocked, the
DynamoDB states it does not name call the local emulator the app points at
(``AwsSettings(endpoint_url=...)``, as ``legato.testing`` documents)."""

from __future__ import annotations

import uuid
from typing import Any

import legato
from legato.testing import run_state_machine
from tests.aws_emulator import Emulator

SDK = "arn:aws:states:::aws-sdk:dynamodb:"


def definition(table: str) -> dict[str, Any]:
    key = {"id": {"S.$": "$.id"}}
    return {
        "StartAt": "CreateTable",
        "States": {
            "CreateTable": {
                "Type": "Task", "Resource": SDK + "createTable",
                "Parameters": {
                    "TableName": table, "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                },
                "ResultPath": None, "Next": "Score",
            },
            "Score": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Score", "Payload.$": "$"},
                "ResultSelector": {"score.$": "$.Payload.score"}, "ResultPath": "$.scored",
                "Next": "Save",
            },
            "Save": {
                "Type": "Task", "Resource": SDK + "putItem",
                "Parameters": {"TableName": table, "Item": {
                    "id": {"S.$": "$.id"},
                    "score": {"N.$": "States.Format('{}', $.scored.score)"}}},
                "ResultPath": None, "Next": "Load",
            },
            "Load": {
                "Type": "Task", "Resource": SDK + "getItem",
                "Parameters": {"TableName": table, "Key": key},
                "ResultSelector": {"item.$": "$.Item"}, "End": True,
            },
        },
    }  # fmt: skip


MOCKS = {
    "StateMachines": {"Scoring": {"TestCases": {"Hybrid": {"Score": "Scored"}}}},
    "MockedResponses": {"Scored": {"0": {"Return": {"StatusCode": 200, "Payload": {"score": 7}}}}},
}


async def test_unmocked_states_call_the_emulator(aws_emulator: Emulator) -> None:
    table = f"leads-{uuid.uuid4().hex[:8]}"
    app = legato.App(aws=legato.AwsSettings(endpoint_url=aws_emulator.url))
    try:
        run = await run_state_machine(
            definition(table), {"id": "lead-1"}, app=app, mocks=MOCKS, test_case="Hybrid"
        )
    finally:
        await app.aws_clients.close()  # the SDK's connections, opened on this loop
    assert run.status == "COMPLETED", (run.error, run.cause)
    assert run.output == {"item": {"id": {"S": "lead-1"}, "score": {"N": "7"}}}
