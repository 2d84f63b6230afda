"""A history in Step Functions' GetExecutionHistory shape: ids in order, each event's
previous one, state types from the definition (nested ones too), details per type."""

from __future__ import annotations

from legato.core.asl.aws_history import aws_events, state_types
from legato.core.events import (
    Event,
    ExecutionFailed,
    ExecutionStarted,
    ExecutionTerminated,
    SignalReceived,
    StateEntered,
    StepFailed,
    StepScheduled,
)

MACHINE = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "B",
                "States": {"B": {"Type": "Wait", "Seconds": 1, "End": True}},
            },  # fmt: skip
            "End": True,
        },
    },
}


def test_state_types_include_nested_states() -> None:
    assert state_types(MACHINE) == {"Fan": "Parallel", "Each": "Map", "A": "Pass", "B": "Wait"}


def test_events_are_numbered_and_shaped_per_type() -> None:
    events: list[Event] = [
        ExecutionStarted(1000, "m", '[[{"x":1}],{}]', "1"),
        StateEntered(1500, 1, "B", '{"x":1}'),
        SignalReceived(1600, "go", None, 3),  # no Step Functions counterpart: left out
        StepScheduled(2000, 2, "charge", "[[1],{}]", "default"),
        StepFailed(2500, 2, "charge", 1, "Declined", "card declined", None),
        ExecutionFailed(3000, "Declined", "card declined", ""),
    ]
    shaped = aws_events(events, state_types(MACHINE))
    assert [(e["id"], e["previousEventId"], e["type"]) for e in shaped] == [
        (1, 0, "ExecutionStarted"),
        (2, 1, "WaitStateEntered"),
        (3, 2, "TaskScheduled"),
        (4, 3, "TaskFailed"),
        (5, 4, "ExecutionFailed"),
    ]
    assert shaped[0]["timestamp"] == 1.0
    assert shaped[0]["executionStartedEventDetails"]["input"] == '{"x":1}'
    assert shaped[3]["taskFailedEventDetails"] == {
        "resourceType": "legato", "resource": "charge", "error": "Declined",
        "cause": "card declined",
    }  # fmt: skip
    assert shaped[4]["executionFailedEventDetails"] == {
        "error": "Declined",
        "cause": "card declined",
    }


def test_a_terminated_execution_is_aborted() -> None:
    [event] = aws_events([ExecutionTerminated(5, "operator")], {})
    assert event["type"] == "ExecutionAborted"
    assert event["executionAbortedEventDetails"]["cause"] == "operator"
