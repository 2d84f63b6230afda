"""ARNs of state machines and executions (developer guide, "Accessing execution data from the
Context object": ``arn:aws:states:us-east-1:123456789012:execution:stateMachineName:
executionName`` and ``arn:aws:states:us-east-1:123456789012:stateMachine:stateMachineName``)."""

from __future__ import annotations

import pytest

from legato.core.asl.arns import AwsIdentity, execution_name_of, identity_problem


def test_the_documented_example() -> None:
    aws = AwsIdentity()
    assert aws.execution_arn("stateMachineName", "executionName") == (
        "arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName"
    )
    assert aws.state_machine_arn("stateMachineName") == (
        "arn:aws:states:us-east-1:123456789012:stateMachine:stateMachineName"
    )


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("arn:aws:states:us-east-1:123456789012:execution:M:run-1", "run-1"),
        ("arn:aws-cn:states:cn-north-1:123456789012:execution:M:a:b", "a:b"),
        ("arn:aws:states:eu-west-1:111122223333:execution:M:p/S/1", "p/S/1"),
        ("run-1", "run-1"),
        ("arn:aws:states:us-east-1:123456789012:stateMachine:M", None),
    ],
)
def test_execution_name_of(given: str, name: str | None) -> None:
    assert execution_name_of(given) == (given if name is None else name)


@pytest.mark.parametrize(
    ("region", "account", "ok"),
    [
        ("us-east-1", "123456789012", True),
        ("eu-central-1", "000000000000", True),
        ("us-gov-west-1", "123456789012", True),
        ("US East", "123456789012", False),
        ("", "123456789012", False),
        ("us-east-1", "1234", False),
        ("us-east-1", "12345678901a", False),
    ],
)
def test_identity_problem(region: str, account: str, ok: bool) -> None:
    assert (identity_problem(region, account) is None) is ok
