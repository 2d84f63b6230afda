"""Intrinsic functions on the edge cases AWS answers in its own way: States.StringToJson of a
blank string, States.Format of an object or an array argument.

The expected values are those of executions recorded on AWS Step Functions, kept as snapshots
in LocalStack's AWS-validated test suite: ``tests/aws/services/stepfunctions/v2/
intrinsic_functions/test_json_manipulation.snapshot.json`` (``test_string_to_json``) and
``test_generic.snapshot.json`` (``test_format_2``, ``test_context_json_path``) in
github.com/localstack/localstack."""

from __future__ import annotations

from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import single


async def _evaluate(expression: str, given: Any) -> Any:
    state = {"Type": "Pass", "Parameters": {"FunctionResult.$": expression}}
    r = await run_state_machine(single(state), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert isinstance(r.output, dict)
    return r.output["FunctionResult"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Recorded on AWS (test_string_to_json): "" and " " parse to null ...
        ("", None),
        (" ", None),
        # ... as "null" does; the other recorded inputs parse as JSON.
        ("null", None),
        ("-0", 0),
        ("1.1", 1.1),
        ('"HelloWorld"', "HelloWorld"),
        ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
    ],
)
async def test_string_to_json_of_blank_text_is_null(text: str, expected: Any) -> None:
    """AWS execution (test_string_to_json): ``States.StringToJson($.FunctionInput)`` with
    ``FunctionInput`` ``""`` or ``" "`` gives ``"FunctionResult": null``."""
    assert await _evaluate("States.StringToJson($.FunctionInput)", {"FunctionInput": text}) == (
        expected
    )


FORMAT = "States.Format('Formatting arguments fst={} and snd={}.', $.fst, $.snd)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Recorded on AWS (test_format_2): an object argument is rendered {key=value, ...} ...
        (
            {"Arg1": 1, "Arg2": []},
            "Formatting arguments fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}.",
        ),
        # ... while a string holding JSON text is inserted as it is ...
        (
            '{"Arg1": 1, "Arg2": []}',
            'Formatting arguments fst={"Arg1": 1, "Arg2": []} and snd={"Arg1": 1, "Arg2": []}.',
        ),
        # ... and scalars as their JSON text.
        (None, "Formatting arguments fst=null and snd=null."),
        (1.1, "Formatting arguments fst=1.1 and snd=1.1."),
        ("", "Formatting arguments fst= and snd=."),
    ],
)
async def test_format_renders_objects_as_aws_does(value: Any, expected: str) -> None:
    """AWS execution (test_format_2): ``States.Format`` with an object argument
    ``{"Arg1": 1, "Arg2": []}`` gives ``{Arg1=1, Arg2=[]}``, not JSON."""
    assert await _evaluate(FORMAT, {"fst": value, "snd": value}) == expected


async def test_format_renders_nested_values_unquoted() -> None:
    """AWS execution (test_context_json_path): ``States.Format(..., $$.StateMachine)`` gives
    ``{Id=arn:aws:states:...:stateMachine:<name>, Name=<name>}``: strings inside an object are
    not quoted; arrays are ``[a, b]`` with the same rendering of their items."""
    given = {"fst": {"Id": "arn:x", "Name": "n"}, "snd": [{"k": ["a", True, None]}, 2]}
    assert await _evaluate(FORMAT, given) == (
        "Formatting arguments fst={Id=arn:x, Name=n} and snd=[{k=[a, true, null]}, 2]."
    )
