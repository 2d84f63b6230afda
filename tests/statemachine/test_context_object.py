"""The Context object as AWS Step Functions fills it: ``Execution.RoleArn``, ``RetryCount`` in
Task states only, and what STANDARD and EXPRESS executions differ in.

Sources: the developer guide, "Accessing execution data from the Context object" (the fields
``Execution.Id``, ``Input``, ``Name``, ``RoleArn``, ``StartTime``, ``RedriveCount``,
``RedriveTime``; ``State.EnteredTime``, ``Name``, ``RetryCount``; "The value of the
RedriveCount context object is 0, if you've not yet redriven an execution"), "Redriving
executions" (only Standard workflows are redriven, so EXPRESS executions have no
RedriveCount), and the Context objects AWS executions show for a Pass state, which have no
``State.RetryCount`` (an AWS execution whose Pass state outputs ``$$``: ``State`` is
``{"Name": ..., "EnteredTime": ...}`` and ``Execution`` has ``RoleArn`` and ``RedriveCount: 0``;
``test_context_object.snapshot.json``, ``test_input_path[$$]``, in LocalStack's AWS-validated
tests, github.com/localstack/localstack, tests/aws/services/stepfunctions/v2/context_object)."""

from __future__ import annotations

from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import single

ROLE = "arn:aws:iam::111122223333:role/service-role/StepFunctions-orders-role"


def _context(state: dict[str, Any]) -> dict[str, Any]:
    """A machine whose one state outputs the whole Context object."""
    return single({**state, "Parameters": {"context.$": "$$"}})


async def test_role_arn_is_the_machines_role() -> None:
    """``$$.Execution.RoleArn`` is the role the machine was created with."""
    r = await run_state_machine(_context({"Type": "Pass"}), {}, role_arn=ROLE)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["context"]["Execution"]["RoleArn"] == ROLE


async def test_role_arn_has_a_placeholder_by_default() -> None:
    """Without a configured role, ``$$.Execution.RoleArn`` is a placeholder IAM role ARN, so
    definitions that read it still run."""
    r = await run_state_machine(_context({"Type": "Pass"}), {})
    role = r.output["context"]["Execution"]["RoleArn"]
    assert role.startswith("arn:aws:iam::") and ":role/" in role


async def test_retry_count_is_absent_in_a_pass_state() -> None:
    """A Pass state's Context object has ``State.EnteredTime`` and ``State.Name`` only, so
    ``$$.State.RetryCount`` selects nothing there (and the path fails)."""
    r = await run_state_machine(_context({"Type": "Pass"}), {})
    assert sorted(r.output["context"]["State"]) == ["EnteredTime", "Name"]
    failed = await run_state_machine(
        single({"Type": "Pass", "Parameters": {"n.$": "$$.State.RetryCount"}}), {}
    )
    assert failed.status == "FAILED"


async def test_retry_count_is_there_in_a_task_state() -> None:
    """A Task state's Context object has ``State.RetryCount``: 0 on the first attempt."""
    r = await run_state_machine(
        single({"Type": "Task", "Resource": "echo", "Parameters": {"n.$": "$$.State.RetryCount"}}),
        {},
        steps={"echo": lambda event: event},
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"n": 0}


@pytest.mark.parametrize(
    ("type_", "fields"),
    [
        ("STANDARD", ["Id", "Input", "Name", "RedriveCount", "RoleArn", "StartTime"]),
        ("EXPRESS", ["Id", "Input", "Name", "RoleArn", "StartTime"]),
    ],
)
async def test_standard_and_express_executions_differ(type_: Any, fields: list[str]) -> None:
    """``run_state_machine(..., type=...)`` selects the workflow type: a STANDARD execution's
    ``$$.Execution`` has ``RedriveCount`` (0 before any redrive); an EXPRESS one's has not."""
    r = await run_state_machine(_context({"Type": "Pass"}), {"k": 1}, type=type_)
    assert r.status == "COMPLETED", (r.error, r.cause)
    execution = r.output["context"]["Execution"]
    assert sorted(execution) == fields
    assert execution["Input"] == {"k": 1}
    if type_ == "STANDARD":
        assert execution["RedriveCount"] == 0


async def test_an_unknown_type_is_refused() -> None:
    """Step Functions knows two workflow types only."""
    from legato.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="STANDARD or EXPRESS"):
        await run_state_machine(_context({"Type": "Pass"}), {}, type="BATCH")  # type: ignore[arg-type]
