"""ARNs of state machines and executions, as Step Functions gives them.

Developer guide, "Accessing execution data from the Context object"
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html): in a
running execution ``Execution.Id`` is
``"arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName"``,
``Execution.Name`` is ``"executionName"`` and ``StateMachine.Id`` is
``"arn:aws:states:us-east-1:123456789012:stateMachine:stateMachineName"``. Developer guide,
"Start a new AWS Step Functions state machine execution" (``states:startExecution``): the
task's result is ``{"ExecutionArn": ..., "StartDate": ...}``, the child's execution ARN, and the
example passes ``"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"`` to it.
"""

from __future__ import annotations

from typing import Any

import pytest

import legato
from legato.testing import WorkflowEnvironment, run_state_machine
from tests.statemachine.machines import single

CONTEXT = {
    "id.$": "$$.Execution.Id",
    "name.$": "$$.Execution.Name",
    "machine.$": "$$.StateMachine.Id",
    "machineName.$": "$$.StateMachine.Name",
    # a definition that takes the ARN apart: arn:aws:states:REGION:ACCOUNT:execution:M:NAME
    "region.$": "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 3)",
    "account.$": "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 4)",
    "nameFromArn.$": "States.ArrayGetItem(States.StringSplit($$.Execution.Id, ':'), 7)",
}


def _expected(region: str, account: str, machine: str, name: str) -> dict[str, Any]:
    return {
        "id": f"arn:aws:states:{region}:{account}:execution:{machine}:{name}",
        "name": name,
        "machine": f"arn:aws:states:{region}:{account}:stateMachine:{machine}",
        "machineName": machine,
        "region": region,
        "account": account,
        "nameFromArn": name,
    }


async def test_context_ids_are_arns_with_the_documented_default_region_and_account() -> None:
    """With no settings, the region and account of AWS's example: us-east-1, 123456789012."""
    r = await run_state_machine(single({"Type": "Pass", "Parameters": CONTEXT}), {}, name="orders")
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == _expected("us-east-1", "123456789012", "orders", r.execution_id)


async def test_region_and_account_are_settings() -> None:
    app = legato.App(aws_region="eu-west-1", aws_account="111122223333")
    r = await run_state_machine(
        single({"Type": "Pass", "Parameters": CONTEXT}), {}, name="orders", app=app
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == _expected("eu-west-1", "111122223333", "orders", r.execution_id)


async def test_a_setting_changed_before_the_engine_starts_applies_to_registered_machines() -> None:
    app = legato.App()
    app.register_state_machine("orders", single({"Type": "Pass", "Parameters": CONTEXT}))
    app.configure(aws_region="ap-southeast-2", aws_account="444455556666")
    async with WorkflowEnvironment(app):
        handle = await app.start("orders", {})
        out = await handle.result(timeout=10)
    assert out == _expected("ap-southeast-2", "444455556666", "orders", handle.id)


async def test_jsonata_context_has_the_same_arns() -> None:
    """Developer guide, "Accessing execution data from the Context object": JSONata states
    read the same object as ``$states.context``."""
    state = {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Output": {
            "id": "{% $states.context.Execution.Id %}",
            "machine": "{% $states.context.StateMachine.Id %}",
        },
    }
    r = await run_state_machine(single(state), {}, name="orders")
    assert r.output == {
        "id": f"arn:aws:states:us-east-1:123456789012:execution:orders:{r.execution_id}",
        "machine": "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
    }


async def test_a_started_childs_execution_arn_is_its_arn_and_can_be_passed_on() -> None:
    """The child gets the parent's ``$$.Execution.Id`` (the documented
    AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID input); the parent gets the child's
    ``ExecutionArn``, and the ARN finds the execution (``app.get_handle``)."""
    app = legato.App(aws_region="eu-central-1", aws_account="210987654321")
    app.register_state_machine(
        "Child", single({"Type": "Pass", "Parameters": {"parent.$": "$.parent", **CONTEXT}})
    )
    app.register_state_machine("Parent", single({
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {
            "StateMachineArn": "arn:aws:states:eu-central-1:210987654321:stateMachine:Child",
            "Name": "kid-7",
            "Input": {"parent.$": "$$.Execution.Id"},
        },
    }))  # fmt: skip
    async with WorkflowEnvironment(app):
        parent = await app.start("Parent", {})
        started = await parent.result(timeout=10)
        child = await app.get_handle(started["ExecutionArn"]).result(timeout=10)
    region, account = "eu-central-1", "210987654321"
    assert started["ExecutionArn"] == f"arn:aws:states:{region}:{account}:execution:Child:kid-7"
    assert child == {
        "parent": f"arn:aws:states:{region}:{account}:execution:Parent:{parent.id}",
        **_expected(region, account, "Child", "kid-7"),
    }


@pytest.mark.parametrize(
    "settings",
    [{"aws_region": "US East"}, {"aws_account": "1234"}, {"aws_account": "abcdefghijkl"}],
)
def test_a_region_or_account_that_cannot_stand_in_an_arn_is_refused(
    settings: dict[str, Any],
) -> None:
    with pytest.raises(legato.ConfigurationError):
        legato.App(**settings)
    with pytest.raises(legato.ConfigurationError):
        legato.App().configure(**settings)
