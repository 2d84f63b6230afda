"""Which integrations a definition uses (legato.core.asl.integrations_used), and the
validator's question to an injected ``SdkCatalog`` (the core reads no SDK model)."""

from __future__ import annotations

from typing import Any

from legato.core.asl.integrations_used import integrations_used
from legato.core.asl.validate import validate


def task(resource: str, **more: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, **more}


def machine(states: dict[str, Any]) -> dict[str, Any]:
    names = list(states)
    for name, after in zip(names, [*names[1:], None], strict=True):
        if after is None:
            states[name]["End"] = True
        else:
            states[name]["Next"] = after
    return {"StartAt": names[0], "States": states}


def entry(
    resource: str, kind: str, service: str, action: str, pattern: str, *states: str
) -> dict[str, Any]:
    return {
        "resource": resource,
        "kind": kind,
        "service": service,
        "action": action,
        "pattern": pattern,
        "states": list(states),
    }


def test_every_kind_of_integration_is_listed_once_by_resource() -> None:
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV"}}
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b"}}
    inner = machine({"Put": task("arn:aws:states:::dynamodb:putItem")})
    definition = machine(
        {
            "Get": task("arn:aws:states:::aws-sdk:s3:getObject"),
            "Ask": task("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            "Call": task("arn:aws:states:::http:invoke"),
            "Invoke": task("arn:aws:states:::lambda:invoke"),
            "Child": task("arn:aws:states:::states:startExecution.sync:2"),
            "Step": task("charge"),
            "Fn": task("arn:aws:lambda:us-east-1:123456789012:function:f"),
            "Again": task("arn:aws:states:::aws-sdk:s3:getObject"),
            "Each": {
                "Type": "Map",
                "ItemReader": reader,
                "ResultWriter": writer,
                "ItemProcessor": inner,
            },
        }
    )
    assert integrations_used(definition) == [
        entry(
            "arn:aws:states:::aws-sdk:s3:getObject",
            "aws-sdk",
            "s3",
            "getObject",
            "request",
            "Get",
            "Again",
        ),
        entry(
            "arn:aws:states:::dynamodb:putItem",
            "optimized",
            "dynamodb",
            "putItem",
            "request",
            "Put",
        ),
        entry("arn:aws:states:::http:invoke", "http", "http", "invoke", "request", "Call"),
        entry(
            "arn:aws:states:::lambda:invoke", "optimized", "lambda", "invoke", "request", "Invoke"
        ),
        entry("arn:aws:states:::s3:getObject", "item-reader", "s3", "getObject", "request", "Each"),
        entry(
            "arn:aws:states:::s3:putObject", "result-writer", "s3", "putObject", "request", "Each"
        ),
        entry(
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "optimized",
            "sqs",
            "sendMessage",
            "token",
            "Ask",
        ),
        entry(
            "arn:aws:states:::states:startExecution.sync:2",
            "optimized",
            "states",
            "startExecution",
            "sync2",
            "Child",
        ),
    ]


def test_what_cannot_be_read_is_skipped() -> None:
    assert integrations_used(None) == []
    assert integrations_used({"States": {"A": "nope", "B": task("arn:aws:states:::sqs")}}) == []


class Catalog:
    """An SdkCatalog that knows one call: the validator only asks it about aws-sdk Resources."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def problem(self, service: str, action: str) -> str | None:
        self.asked.append((service, action))
        return None if (service, action) == ("s3", "getObject") else "no such call"


def test_the_validator_asks_the_catalog_about_aws_sdk_resources_only() -> None:
    catalog = Catalog()
    definition = machine(
        {
            "A": task("arn:aws:states:::aws-sdk:s3:getObject"),
            "B": task("arn:aws:states:::aws-sdk:s3:putObjekt.waitForTaskToken"),
            "C": task("arn:aws:states:::dynamodb:putItem"),
        }
    )
    problems = validate(definition, catalog)
    assert [(p.path, p.rule) for p in problems] == [("$.States.B.Resource", "no such call")]
    assert catalog.asked == [("s3", "getObject"), ("s3", "putObjekt")]
    assert validate(definition) == []  # without a catalog: the shape only
