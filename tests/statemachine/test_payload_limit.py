"""The 256 KiB payload quota: ``States.DataLimitExceeded`` with AWS's cause, caught where AWS
catches it (a Task's result) and terminal elsewhere.

Sources: the developer guide, "Step Functions service quotas" (maximum input or output size
for a task, state or execution: 256 KiB of data as a UTF-8 encoded string, 262,144 bytes) and
"Error names" (``States.DataLimitExceeded``); executions recorded on AWS, kept in LocalStack's
AWS-validated ``tests/aws/services/stepfunctions/v2/error_handling/
test_states_errors.snapshot.json`` (github.com/localstack/localstack):

* ``test_service_task_lambada_*``: a ``lambda:invoke`` Task whose function returns a large
  UTF-8 string fails with ``States.DataLimitExceeded``, cause ``The state/task 'lambda'
  returned a result with a size exceeding the maximum number of bytes service limit.``, and a
  Catch on ``States.DataLimitExceeded`` or on ``States.ALL`` takes it;
* ``test_task_lambda_*``: the same with the function's ARN as the Resource names the ARN;
* ``test_start_large_input``: a Pass state whose Result is 257 KiB fails the execution at once
  (no ``StateExited``) with the cause naming the state, ``'State_1'``."""

from __future__ import annotations

from typing import Any

import pytest

from legato import App, PayloadTooLarge
from legato.core.events import StateExited
from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single

LIMIT = 262_144


def cause(label: str) -> str:
    return (
        f"The state/task '{label}' returned a result with a size exceeding the maximum number "
        "of bytes service limit."
    )


def large(n: int = 257 * 1024) -> str:
    """A string whose JSON (quotes included) is over the limit."""
    return "a" * n


def _caught(errors: list[str], resource: str) -> dict[str, Any]:
    return chain(
        (
            "InvokeLambda",
            {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {"FunctionName": "big", "Payload.$": "$"},
                "Catch": [{"ErrorEquals": errors, "Next": "Handle"}],
                "Next": "ProcessResult",
            },
        ),
        ("ProcessResult", {"Type": "Pass", "End": True}),
        ("Handle", {"Type": "Pass", "End": True}),
    )


@pytest.mark.parametrize("errors", [["States.DataLimitExceeded"], ["States.ALL"]])
async def test_a_task_result_over_the_limit_is_caught(errors: list[str]) -> None:
    """AWS execution: a ``lambda:invoke`` result over the quota is ``States.DataLimitExceeded``
    with the cause naming ``'lambda'``; Catch on its name or on ``States.ALL`` takes it."""
    r = await run_state_machine(
        _caught(errors, "arn:aws:states:::lambda:invoke"), {}, steps={"big": lambda e: large()}
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"Error": "States.DataLimitExceeded", "Cause": cause("lambda")}
    assert r.states_entered() == ["InvokeLambda", "Handle"]


async def test_a_bare_function_arn_is_named_in_the_cause() -> None:
    """AWS execution: with the function's ARN as the Resource, the cause names the ARN."""
    arn = "arn:aws:lambda:us-east-1:123456789012:function:big"
    definition = single({"Type": "Task", "Resource": arn})
    r = await run_state_machine(definition, {}, steps={"big": lambda e: large()})
    assert r.status == "FAILED"
    assert (r.error, r.cause) == ("States.DataLimitExceeded", cause(arn))


async def test_a_result_at_the_limit_passes() -> None:
    """262,144 bytes is within the quota; one byte more is not (UTF-8 bytes, not characters:
    a two-byte character counts twice)."""
    exact = "a" * (LIMIT - 2)  # its JSON text has two quotes
    ok = await run_state_machine(
        single({"Type": "Task", "Resource": "make"}), {}, steps={"make": lambda e: exact}
    )
    assert ok.status == "COMPLETED", (ok.error, ok.cause)
    over = "é" * ((LIMIT - 2) // 2) + "a"  # 2 bytes per é: one byte over
    failed = await run_state_machine(
        single({"Type": "Task", "Resource": "make"}), {}, steps={"make": lambda e: over}
    )
    assert (failed.error, failed.cause) == ("States.DataLimitExceeded", cause("make"))


async def test_a_pass_result_over_the_limit_fails_the_execution() -> None:
    """AWS execution (``test_start_large_input``): a Pass state with a 257 KiB Result fails
    the execution, the cause naming the state, and the state never exits."""
    definition = single({"Type": "Pass", "Result": {"Arg1": large()}})
    definition["States"]["State_1"] = definition["States"].pop("S")
    definition["StartAt"] = "State_1"
    r = await run_state_machine(definition, {})
    assert r.status == "FAILED"
    assert (r.error, r.cause) == ("States.DataLimitExceeded", cause("State_1"))
    assert not [e for e in r.history if isinstance(e, StateExited)]


async def test_a_state_output_over_the_limit_is_not_caught() -> None:
    """A Task's own result is small but its output (input plus result, by ResultPath) is over
    the quota: the execution fails, and not even a Catch on ``States.ALL`` or on
    ``States.DataLimitExceeded`` applies, as the quota is checked outside the Task's work."""
    definition = chain(
        (
            "T",
            {
                "Type": "Task",
                "Resource": "small",
                "ResultPath": "$.r",
                "Catch": [
                    {"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Handle"},
                    {"ErrorEquals": ["States.ALL"], "Next": "Handle"},
                ],
                "Next": "Done",
            },
        ),
        ("Done", {"Type": "Pass", "End": True}),
        ("Handle", {"Type": "Pass", "End": True}),
    )
    r = await run_state_machine(
        definition, {"big": large(LIMIT - 100)}, steps={"small": lambda e: "x" * 200}
    )
    assert r.status == "FAILED"
    assert (r.error, r.cause) == ("States.DataLimitExceeded", cause("T"))
    assert r.states_entered() == ["T"]


async def test_an_execution_input_over_the_limit_fails() -> None:
    """An execution input over 256 KiB: by default the app refuses to start it
    (``PayloadTooLarge``, nothing written, as StartExecution refuses such an input); an app
    whose own inline limit is higher starts it, and the execution fails with
    ``States.DataLimitExceeded`` before any state runs."""
    with pytest.raises(PayloadTooLarge):
        await run_state_machine(single({"Type": "Pass"}), {"big": large()})
    app = App(inline_payload_bytes=4 * LIMIT)
    r = await run_state_machine(single({"Type": "Pass"}), {"big": large()}, app=app)
    assert r.status == "FAILED"
    assert (r.error, r.cause) == ("States.DataLimitExceeded", cause("S"))
    assert r.states_entered() == []
