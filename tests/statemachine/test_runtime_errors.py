"""Runtime errors named and worded as AWS Step Functions reports them (developer guide,
"Handling errors in Step Functions workflows", "Error names":
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from legato import App
from legato.core.asl.aws_history import aws_events, state_types
from legato.core.events import StateExited
from legato.errors import ExecutionFailedError
from legato.testing import WorkflowEnvironment, run_state_machine
from tests.statemachine.machines import timer_delays
from tests.statemachine.test_errors import Timed


def _guarded(state: dict[str, Any], catch: list[str]) -> dict[str, Any]:
    """``state`` (a Pass or Fail) inside a Parallel whose Retry and Catch name ``catch``: only
    Task, Parallel and Map states have Catch, so the enclosing Parallel is where it would be
    caught."""
    return {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "S", "States": {"S": state}}],
                "Retry": [{"ErrorEquals": catch}],
                "Catch": [{"ErrorEquals": catch, "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


@pytest.mark.parametrize(
    ("state", "given"),
    [
        # Developer guide, "Fail workflow state": ErrorPath/CausePath are reference paths; one
        # that selects nothing fails the execution with States.Runtime (as AWS reports it),
        # not States.ParameterPathFailure, which names a Parameters field.
        ({"Type": "Fail", "ErrorPath": "$.missing", "Cause": "c"}, {"present": 1}),
        ({"Type": "Fail", "Error": "E", "CausePath": "$.missing"}, {"present": 1}),
        # ... and an intrinsic function whose Path argument selects nothing.
        ({"Type": "Fail", "Error": "E", "CausePath": "States.Format('{}', $.missing)"}, {}),
        (
            {"Type": "Pass", "Parameters": {"v.$": "States.ArrayLength($.missing)"}, "End": True},
            {"present": 1},
        ),
    ],
)
@pytest.mark.parametrize("catch", [["States.ALL"], ["States.Runtime"]])
async def test_runtime_error_is_never_caught(
    state: dict[str, Any], given: Any, catch: list[str]
) -> None:
    """Developer guide, "Error names", States.Runtime: "Errors of this type aren't retriable
    and will always cause the execution to fail. A retry or catch on States.ALL won't catch
    States.Runtime errors." Not even a Retry or Catch that names States.Runtime itself."""
    r = await run_state_machine(_guarded(state, catch), given)
    assert (r.status, r.error) == ("FAILED", "States.Runtime"), r.cause
    assert r.states_entered() == ["P", "S"]
    assert timer_delays(r.history) == []


async def test_runtime_error_is_not_tolerated_by_a_map_threshold() -> None:
    """Developer guide, "Error names", States.Runtime "will always cause the execution to
    fail": a Map's tolerated failure threshold does not absorb it either."""
    inner = {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.missing"}}}
    state = {
        "Type": "Map",
        "ItemProcessor": inner,
        "ToleratedFailurePercentage": 100,
        "End": True,
    }
    r = await run_state_machine({"StartAt": "M", "States": {"M": state}}, [1, 2])
    assert (r.status, r.error) == ("FAILED", "States.Runtime"), r.cause


async def test_fail_paths_that_select_something_still_work() -> None:
    """Developer guide, "Fail workflow state": ErrorPath and CausePath select the error and
    cause from the state's input (a path or an intrinsic function)."""
    state = {
        "Type": "Fail",
        "ErrorPath": "$.e",
        "CausePath": "States.Format('because {}', $.why)",
    }
    r = await run_state_machine(
        {"StartAt": "S", "States": {"S": state}}, {"e": "MyError", "why": "reasons"}
    )
    assert (r.status, r.error, r.cause) == ("FAILED", "MyError", "because reasons")


async def test_task_timeout_carries_no_cause() -> None:
    """ASL spec, "Task State": a task that runs past TimeoutSeconds fails with States.Timeout.
    Step Functions sends no cause with it (API reference, TaskTimedOutEventDetails:
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_TaskTimedOutEventDetails.html,
    ``cause`` not required, and left out for a task timeout): a Catch passes on
    ``{"Error": "States.Timeout"}``, and an uncaught timeout fails the execution with no cause."""
    t = Timed()
    task = {"Type": "Task", "Resource": "work", "TimeoutSeconds": 1}
    caught = {
        "StartAt": "T",
        "States": {
            "T": {**task, "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "R"}], "End": True},
            "R": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(caught, {}, steps={"work": t.sleeper}, app=t.app)
    assert (r.status, r.output) == ("COMPLETED", {"Error": "States.Timeout"})
    t = Timed()
    r = await run_state_machine(
        {"StartAt": "T", "States": {"T": {**task, "End": True}}},
        {},
        steps={"work": t.sleeper},
        app=t.app,
    )
    assert (r.status, r.error) == ("FAILED", "States.Timeout")
    assert not r.cause


ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize(
    ("fields", "given", "expected"),
    [
        # Developer guide, "Wait workflow state": SecondsPath selects the seconds from the
        # input; a numeric string counts as its number, as in Step Functions.
        ({"Type": "Wait", "SecondsPath": "$.s"}, {"s": "5"}, [5.0]),
        ({"Type": "Wait", "SecondsPath": "$.s"}, {"s": "0"}, []),  # no wait, no timer
        # Developer guide, "Map workflow state": MaxConcurrencyPath, and "Tolerated failure
        # threshold": ToleratedFailureCountPath / ToleratedFailurePercentagePath.
        (
            {"Type": "Map", "ItemProcessor": ECHO, "ItemsPath": "$.items",
             "MaxConcurrencyPath": "$.m", "ToleratedFailureCountPath": "$.c",
             "ToleratedFailurePercentagePath": "$.p"},
            {"items": [1, 2], "m": "1", "c": "0", "p": "12.5"},
            [],
        ),
    ],
)  # fmt: skip
async def test_numeric_strings_are_numbers(
    fields: dict[str, Any], given: Any, expected: list[float]
) -> None:
    r = await run_state_machine({"StartAt": "S", "States": {"S": {**fields, "End": True}}}, given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert timer_delays(r.history) == expected


@pytest.mark.parametrize(
    ("fields", "given", "cause"),
    [
        # Wait with a SecondsPath that is not a non-negative integer (developer guide, "Wait
        # workflow state": "You must specify an integer value"): States.Runtime, with the
        # wording AWS executions report.
        (
            {"Type": "Wait", "SecondsPath": "$.s"},
            {"s": 1.5},
            'The SecondsPath field refers to value "1.5" which is not a valid integer: $.s',
        ),
        (
            {"Type": "Wait", "SecondsPath": "$.s"},
            {"s": "soon"},
            'The SecondsPath field refers to value "soon" which is not a valid integer: $.s',
        ),
        (
            {"Type": "Wait", "SecondsPath": "$.s"},
            {"s": -1},
            "The SecondsPath parameter references a negative value: $.s == -1",
        ),
        # Map: MaxConcurrencyPath, ToleratedFailureCountPath, ToleratedFailurePercentagePath.
        (
            {"Type": "Map", "ItemProcessor": ECHO, "ItemsPath": "$.items",
             "MaxConcurrencyPath": "$.m"},
            {"items": [1], "m": "x"},
            'The MaxConcurrencyPath field refers to value "x" which is not a valid integer: $.m',
        ),
        (
            {"Type": "Map", "ItemProcessor": ECHO, "ItemsPath": "$.items",
             "MaxConcurrencyPath": "$.m"},
            {"items": [1], "m": -1},
            "Expected non-negative integer for MaxConcurrency, got '-1' instead.",
        ),
        (
            {"Type": "Map", "ItemProcessor": ECHO, "ItemsPath": "$.items",
             "ToleratedFailureCountPath": "$.c"},
            {"items": [1], "c": {"n": 1}},
            'The ToleratedFailureCountPath field refers to value "{"n":1}" which is not a '
            "valid integer: $.c",
        ),
        (
            {"Type": "Map", "ItemProcessor": ECHO, "ItemsPath": "$.items",
             "ToleratedFailureCountPath": "$.c"},
            {"items": [1], "c": -2},
            "ToleratedFailureCount cannot be negative.",
        ),
        # Developer guide, "Tolerated failure threshold": a percentage from 0 to 100.
        (
            {"Type": "Map", "ItemProcessor": ECHO, "ItemsPath": "$.items",
             "ToleratedFailurePercentagePath": "$.p"},
            {"items": [1], "p": 101},
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
        (
            {"Type": "Map", "ItemProcessor": ECHO, "ItemsPath": "$.items",
             "ToleratedFailurePercentagePath": "$.p"},
            {"items": [1], "p": "most"},
            'The ToleratedFailurePercentagePath field refers to value "most" which is not a '
            "valid float: $.p",
        ),
    ],
)  # fmt: skip
async def test_numbers_out_of_range_are_runtime_errors(
    fields: dict[str, Any], given: Any, cause: str
) -> None:
    """Developer guide, "Error names", States.Runtime; the causes are those Step Functions
    reports for these fields (as recorded from AWS executions in LocalStack's parity tests,
    e.g. localstack ``max_concurrency_decl.py``, ``tolerated_failure.py``,
    ``seconds_path.py``)."""
    r = await run_state_machine({"StartAt": "S", "States": {"S": {**fields, "End": True}}}, given)
    assert (r.status, r.error) == ("FAILED", "States.Runtime")
    assert r.cause is not None and r.cause.endswith(cause), r.cause


def _one(state: dict[str, Any]) -> dict[str, Any]:
    body = dict(state)
    if body["Type"] not in ("Fail", "Succeed", "Choice"):
        body["End"] = True
    return {"StartAt": "S", "States": {"S": body}}


@pytest.mark.parametrize(
    ("state", "given", "error", "cause"),
    [
        # Map items that are not an array (developer guide, "Map workflow state": ItemsPath
        # "must select an array"; the cause as AWS executions word it).
        (
            {"Type": "Map", "ItemProcessor": ECHO, "ItemsPath": "$.items"},
            {"items": {"a": 1}},
            "States.Runtime",
            "Map state input must be an array but was: object",
        ),
        # JSONata Items (developer guide, "Map workflow state", Items: "must evaluate to a
        # JSON array").
        (
            {"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": ECHO,
             "Items": "{% $states.input.items %}"},
            {"items": "abc"},
            "States.QueryEvaluationError",
            "The JSONata expression '$states.input.items' specified for the field 'Items' "
            "returned an unexpected result type. Expected 'array', but was 'string' for "
            'value: "abc"',
        ),
        # InputPath / OutputPath that select nothing (developer guide, "InputPath" /
        # "OutputPath"; AWS's cause names the path in bracket notation).
        (
            {"Type": "Pass", "InputPath": "$.missing"},
            {"present": 1},
            "States.Runtime",
            "Invalid path '$.missing' : No results for path: $['missing']",
        ),
        (
            {"Type": "Pass", "OutputPath": "$.a.b"},
            {"a": {}},
            "States.Runtime",
            "Invalid path '$.a.b' : No results for path: $['a']['b']",
        ),
        # A payload template path that selects nothing (developer guide, "Parameters"; as in
        # a recorded AWS execution: "The JSONPath '$.JobName' specified for the field
        # 'JobName.$' could not be found in the input '{}'").
        (
            {"Type": "Pass", "Parameters": {"JobName.$": "$.JobName"}},
            {},
            "States.ParameterPathFailure",
            "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found "
            "in the input '{}'",
        ),
        # JSONata: an Assign value that is undefined names the field as AWS does.
        (
            {"Type": "Pass", "QueryLanguage": "JSONata",
             "Assign": {"result": "{% $states.input.nothing %}"}},
            {},
            "States.QueryEvaluationError",
            "The JSONata expression '$states.input.nothing' specified for the field "
            "'Assign/result' returned nothing (undefined).",
        ),
        # TimestampPath that is not a timestamp (developer guide, "Wait workflow state").
        (
            {"Type": "Wait", "TimestampPath": "$.t"},
            {"t": "tomorrow"},
            "States.Runtime",
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            "date-time format string: $.t == tomorrow",
        ),
    ],
)  # fmt: skip
async def test_causes_are_worded_as_aws(
    state: dict[str, Any], given: Any, error: str, cause: str
) -> None:
    """Developer guide, "Error names" for the names; the causes are those AWS executions
    report: e.g. the ExecutionFailed event of a real GetExecutionHistory (state 'Glue
    StartJobRun', in the step_functions README of github.com/ryankarlos/aws_etl), and the
    causes LocalStack reproduces from its AWS parity snapshots (its Map, Wait and JSONata
    components)."""
    r = await run_state_machine(_one(state), given)
    assert (r.status, r.error) == ("FAILED", error), r.cause
    assert r.cause is not None and r.cause.endswith(cause), r.cause


def _entered_id(r: Any, definition: dict[str, Any], state: str) -> int:
    """The id of ``state``'s (last) StateEntered event in the AWS-shaped history view."""
    view = aws_events(r.history, state_types(definition))
    return max(
        int(e["id"])
        for e in view
        if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state
    )


async def test_runtime_error_cause_names_the_state_and_its_entered_event() -> None:
    """A recorded AWS execution (GetExecutionHistory in the step_functions README of
    github.com/ryankarlos/aws_etl): the ExecutionFailed cause reads "An error occurred while
    executing the state 'Glue StartJobRun' (entered at the event id #8). The JSONPath ...",
    #8 being the id of that state's TaskStateEntered event (ExecutionStarted is 1, each
    history event the next id)."""
    definition = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Work"},
            "Work": {"Type": "Task", "Resource": "work", "Next": "Glue StartJobRun"},
            "Glue StartJobRun": {
                "Type": "Task",
                "Resource": "work",
                "Parameters": {"JobName.$": "$.JobName"},
                "End": True,
            },
        },
    }
    r = await run_state_machine(definition, {}, steps={"work": lambda _: {}})
    # 1 ExecutionStarted, 2-3 First entered/exited, 4 Work entered, 5 TaskScheduled,
    # 6 TaskSucceeded, 7 Work exited, 8 Glue StartJobRun entered: as in the AWS record
    assert _entered_id(r, definition, "Glue StartJobRun") == 8
    assert r.status == "FAILED"
    assert r.cause == (
        "An error occurred while executing the state 'Glue StartJobRun' (entered at the event "
        "id #8). The JSONPath '$.JobName' specified for the field 'JobName.$' could not be "
        "found in the input '{}'"
    )


async def test_the_prefix_reaches_a_catch_and_names_the_innermost_state() -> None:
    """Developer guide, "Handling errors", Catch: the error output a Catcher passes on is the
    error and cause as reported, here a runtime error inside a Parallel branch: its cause
    names the state it happened in, with that state's entered event id."""
    branch = {
        "StartAt": "Step",
        "States": {
            "Step": {"Type": "Task", "Resource": "work", "Next": "Broken"},
            "Broken": {"Type": "Pass", "Parameters": {"v.$": "States.ArrayGetItem($.a, 5)"},
                       "End": True},
        },
    }  # fmt: skip
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [branch],
                "Catch": [{"ErrorEquals": ["States.IntrinsicFailure"], "Next": "Caught"}],
                "Next": "Caught",
            },
            "Caught": {"Type": "Pass", "InputPath": "$.nothing", "End": True},
        },
    }
    r = await run_state_machine(definition, {"a": [1]}, steps={"work": lambda x: x})
    assert (r.status, r.error) == ("FAILED", "States.Runtime"), r.cause
    broken = _entered_id(r, definition, "Broken")
    caught = _entered_id(r, definition, "Caught")
    assert r.cause is not None and r.cause.startswith(
        f"An error occurred while executing the state 'Caught' (entered at the event id "
        f"#{caught}). Invalid path '$.nothing'"
    )
    outputs = [e for e in r.history if isinstance(e, StateExited) and e.state == "P"]
    assert outputs
    error_output = json.loads(outputs[-1].output)
    assert error_output["Error"] == "States.IntrinsicFailure"
    assert error_output["Cause"].startswith(
        f"An error occurred while executing the state 'Broken' (entered at the event id "
        f"#{broken}). "
    )


class Boom(Exception):
    pass


async def test_after_a_redrive_the_id_counts_the_whole_history() -> None:
    """API reference, GetExecutionHistory / RedriveExecution: a redriven execution's history
    keeps its earlier events (ExecutionFailed, ExecutionRedriven...), and ids go on counting
    through them: the entered event id a runtime error names is that state's in the view."""
    definition: dict[str, Any] = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Next": "Charge"},
            "Charge": {"Type": "Task", "Resource": "charge", "Next": "Ship"},
            "Ship": {"Type": "Pass", "InputPath": "$.nothing", "End": True},
        },
    }
    app = App()
    broken = [True]

    async def charge(value: Any) -> Any:
        if broken[0]:
            raise Boom("down")
        return value

    app.registry.add_step(charge, "charge", None, None, None, None)
    app.register_state_machine("redriven", definition)
    async with WorkflowEnvironment(app):
        handle = await app.start("redriven", {})
        with pytest.raises(ExecutionFailedError):
            await handle.result(timeout=10)
        broken[0] = False
        await app.redrive(handle.id)
        with pytest.raises(ExecutionFailedError) as info:
            await handle.result(timeout=10)
        view = aws_events(await handle.history(), state_types(definition))
    entered = [e["id"] for e in view if e["type"] == "PassStateEntered"]
    # 1 started, 2-3 Prepare, 4-6 Charge failing, 7 failed, 8 redriven, 9-12 Charge, 13 Ship
    assert entered == [2, 13]
    assert (
        "An error occurred while executing the state 'Ship' (entered at the event id #13). "
        "Invalid path '$.nothing' : No results for path: $['nothing']"
    ) in str(info.value)
