"""Step Functions' ``aws-sdk`` names read from botocore's models (legato.adapters.aws.catalog),
and how a response's timestamps are written (legato.adapters.aws.calls)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from legato.adapters.aws.calls import timestamp
from legato.adapters.aws.catalog import (
    BotocoreCatalog,
    UnknownSdkName,
    action_name,
    error_service,
    sdk_catalog,
    sfn_service_name,
)


@pytest.mark.parametrize(
    ("service_id", "name", "prefix"),
    [
        # The guide's examples: acmpca / AcmPca, s3 / S3; the DynamoDb.
        ("ACM PCA", "acmpca", "AcmPca"),
        ("S3", "s3", "S3"),
        ("DynamoDB", "dynamodb", "DynamoDb"),
        ("SFN", "sfn", "Sfn"),
        ("SQS", "sqs", "Sqs"),
        ("EventBridge", "eventbridge", "EventBridge"),
        ("CloudWatch Logs", "cloudwatchlogs", "CloudWatchLogs"),
        ("Bedrock Runtime", "bedrockruntime", "BedrockRuntime"),
        ("EC2", "ec2", "Ec2"),
        ("SESv2", "sesv2", "SesV2"),
        ("ApiGatewayV2", "apigatewayv2", "ApiGatewayV2"),
        ("API Gateway", "apigateway", "ApiGateway"),
        ("Elastic Load Balancing v2", "elasticloadbalancingv2", "ElasticLoadBalancingV2"),
    ],
)
def test_names_from_the_service_id(service_id: str, name: str, prefix: str) -> None:
    assert sfn_service_name(service_id) == name
    assert error_service(service_id) == prefix


def test_action_names_are_camel_case() -> None:
    assert action_name("GetObject") == "getObject"
    assert action_name("ListObjectsV2") == "listObjectsV2"


@pytest.mark.parametrize(
    ("name", "action", "botocore", "operation", "prefix"),
    [
        ("dynamodb", "query", "dynamodb", "Query", "DynamoDb"),
        ("s3", "getObject", "s3", "GetObject", "S3"),
        ("sfn", "startExecution", "stepfunctions", "StartExecution", "Sfn"),
        ("eventbridge", "putEvents", "events", "PutEvents", "EventBridge"),
        ("cloudwatchlogs", "putLogEvents", "logs", "PutLogEvents", "CloudWatchLogs"),
        ("acmpca", "listTags", "acm-pca", "ListTags", "AcmPca"),  # botocore without hyphens
        ("iotdataplane", "publish", "iot-data", "Publish", "IoTDataPlane"),  # every model read
    ],
)
def test_resolve(name: str, action: str, botocore: str, operation: str, prefix: str) -> None:
    service, found = sdk_catalog().resolve(name, action)
    assert (service.botocore, found, service.error_prefix) == (botocore, operation, prefix)


def test_a_fresh_catalog_answers_like_the_shared_one() -> None:
    catalog = BotocoreCatalog()
    assert catalog.problem("s3", "getObject") is None
    with pytest.raises(UnknownSdkName, match="did you mean 'getObject'"):
        catalog.resolve("s3", "GetObject")
    assert sdk_catalog() is sdk_catalog()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "2024-05-01T12:00:00Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 305000, tzinfo=UTC), "2024-05-01T12:00:00.305Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 305001, tzinfo=UTC), "2024-05-01T12:00:00.305001Z"),
        (datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))), "2024-05-01T12:00:00Z"),
    ],
)
def test_timestamps_as_java_instants(value: datetime, text: str) -> None:
    assert timestamp(value) == text
