"""EXPRESS state machines run the Request Response pattern only (developer guide, "Choosing
workflow type in Step Functions"): a Task that waits for a job or a task token, or an activity,
is refused when the machine is registered, naming the state's Resource; the same definition
registers as STANDARD, and request-response Tasks register as EXPRESS."""

from __future__ import annotations

from typing import Any

import pytest

import legato
from legato.core.asl.express import express_problems
from legato.errors import InvalidDefinitionError


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "End": True, **fields}


def _one(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "A", "States": {"A": state}}


CHILD = {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child"}
HTTP = {"ApiEndpoint": "https://api.example.com/approve", "Method": "POST"}
WAITING: list[tuple[str, dict[str, Any], str]] = [
    ("arn:aws:states:::sqs:sendMessage.waitForTaskToken", {}, ".waitForTaskToken"),
    ("arn:aws:states:::glue:startJobRun.sync", {}, ".sync"),
    ("arn:aws:states:::states:startExecution.sync:2", CHILD, ".sync:2"),
    ("arn:aws:states:::states:startExecution.waitForTaskToken", CHILD, ".waitForTaskToken"),
    ("arn:aws:states:::lambda:invoke.waitForTaskToken", {"FunctionName": "f"}, ".waitForTaskToken"),
    ("arn:aws:states:::http:invoke.waitForTaskToken", HTTP, ".waitForTaskToken"),
    ("approve.waitForTaskToken", {}, ".waitForTaskToken"),
    ("arn:aws:states:us-east-1:123456789012:activity:review", {}, "an activity"),
]


@pytest.mark.parametrize(("resource", "parameters", "named"), WAITING)
def test_an_express_machine_refuses_a_task_that_waits(
    resource: str, parameters: dict[str, Any], named: str
) -> None:
    app = legato.App()
    definition = _one(_task(resource, Parameters=parameters) if parameters else _task(resource))
    with pytest.raises(InvalidDefinitionError) as raised:
        app.register_state_machine("m", definition, type="EXPRESS")
    [problem] = raised.value.problems
    assert problem.path == "$.States.A.Resource"
    assert named in problem.rule and "EXPRESS" in problem.rule
    assert "m" not in {name for name, _ in app.registry.workflows}  # nothing half-registered
    app.register_state_machine("m", definition, type="STANDARD")  # fine as STANDARD


def test_request_response_tasks_register_as_express() -> None:
    app = legato.App()
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Next": "B"},
            "B": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f"},
                "Next": "C",
            },  # fmt: skip
            "C": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": "x"},
                "Next": "D",
            },  # fmt: skip
            "D": _task("charge"),
        },
    }
    app.register_state_machine("m", definition, type="EXPRESS")


def test_nested_scopes_are_searched_with_their_paths() -> None:
    wait = _task("arn:aws:states:::sns:publish.waitForTaskToken")
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "X", "States": {"X": _task("plain")}},
                    {"StartAt": "Y", "States": {"Y": wait}},
                ],
                "Next": "M",
            },
            "M": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Z", "States": {"Z": wait}},
                "End": True,
            },
        },
    }
    assert [p.path for p in express_problems(definition)] == [
        "$.States.P.Branches[1].States.Y.Resource",
        "$.States.M.ItemProcessor.States.Z.Resource",
    ]


def test_express_child_executions_of_a_distributed_map_run_request_response_only() -> None:
    """``ProcessorConfig.ExecutionType: EXPRESS`` makes each child an Express workflow, so its
    processor is checked the same way, whatever the parent's type."""

    def machine(execution_type: str) -> dict[str, Any]:
        config = {"Mode": "DISTRIBUTED", "ExecutionType": execution_type}
        processor = {
            "ProcessorConfig": config,
            "StartAt": "Ask",
            "States": {"Ask": _task("arn:aws:states:::sqs:sendMessage.waitForTaskToken")},
        }
        return _one({"Type": "Map", "ItemProcessor": processor, "End": True})

    app = legato.App()
    with pytest.raises(InvalidDefinitionError) as raised:
        app.register_state_machine("m", machine("EXPRESS"))
    [problem] = raised.value.problems
    assert problem.path == "$.States.A.ItemProcessor.States.Ask.Resource"
    assert problem.rule.startswith("an EXPRESS child execution cannot run")
    app.register_state_machine("m", machine("STANDARD"))
