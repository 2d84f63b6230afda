"""JSONPath data flow: Paths, InputPath/OutputPath, payload templates, ResultPath, Assign."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonpath_ng.ext.parser import parse as jsonpath_parse

from legato.core.asl.errors import StatesError
from legato.core.asl.paths import (
    MISSING,
    assign_jsonpath,
    input_path,
    is_reference_path,
    is_valid_path,
    output_path,
    payload_template,
    result_path,
    select,
)
from legato.core.error_names import PARAMETER_PATH_FAILURE, RESULT_PATH_MATCH_FAILURE, RUNTIME
from legato.core.events import JSON

# Developer guide, "Using JSONPath paths" ("Reference Paths"): the example state input.
PATHS_INPUT: JSON = {
    "foo": 123,
    "bar": ["a", "b", "c"],
    "car": {"cdr": True},
    "jar": [{"a": 1}, {"a": 5}, {"a": 2}, {"a": 7}, {"a": 3}],
}


# Developer guide, "Using JSONPath paths": "$.foo => 123", "$.bar => [...]", "$.car.cdr => true",
# "$.jar[?(@.a >= 5)] => [{"a": 5}, {"a": 7}]"; bracket notation "$.abc.['def ghi']".
@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("$.foo", PATHS_INPUT, 123),
        ("$.bar", PATHS_INPUT, ["a", "b", "c"]),
        ("$.car.cdr", PATHS_INPUT, True),
        ("$.jar[?(@.a >= 5)]", PATHS_INPUT, [{"a": 5}, {"a": 7}]),
        ("$.abc.['def ghi']", {"abc": {"def ghi": 42}}, 42),
        ("$['abc']['def ghi']", {"abc": {"def ghi": 42}}, 42),
        ("$", PATHS_INPUT, PATHS_INPUT),
    ],
)
def test_select_documented_examples(path: str, data: JSON, expected: JSON) -> None:
    assert select(path, data, {}, {}) == expected


# Developer guide, "Using JSONPath paths", "Flattening an array of arrays": "$[*][*]".
def test_select_flattens_array_of_arrays() -> None:
    assert select("$[*][*]", [[1, 2, 3], [4, 5, 6]], {}, {}) == [1, 2, 3, 4, 5, 6]


# ASL spec, "Paths": "$$" selects from the Context object; developer guide, "Passing data
# between states with variables": "$x or $order.numItems" select from variables.
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$$.Execution.Id", "arn:exec"),
        ("$$", {"Execution": {"Id": "arn:exec"}}),
        ("$order.numItems", 3),
        ("$order.items[1]", "b"),
        ("$order", {"numItems": 3, "items": ["a", "b"]}),
        ("$x", 3),
    ],
)
def test_select_context_and_variables(path: str, expected: JSON) -> None:
    context: JSON = {"Execution": {"Id": "arn:exec"}}
    variables: dict[str, JSON] = {"order": {"numItems": 3, "items": ["a", "b"]}, "x": 3}
    assert select(path, {"data": 1}, context, variables) == expected


# ASL spec, "Reference Paths": a reference path that identifies nothing is a runtime error.
@pytest.mark.parametrize(
    ("path", "data", "reason"),
    [
        ("$.missing", {"a": 1}, "field 'missing' not found"),
        ("$.a.b", {"a": "text"}, "is a string, not an object"),
        ("$.a[3]", {"a": [1]}, "index 3 is out of range"),
        ("$.a[0]", {"a": {"0": 1}}, "not an array"),
        ("$nope.x", {}, "variable $nope is not defined"),
        ("$.a[?(@.b ==", {}, "invalid JSONPath"),
        ("a.b", {}, "must begin with '$'"),
        ("$$$", {}, "'$$' must be followed"),
    ],
)
def test_select_errors(path: str, data: JSON, reason: str) -> None:
    with pytest.raises(StatesError) as info:
        select(path, data, {}, {})
    assert info.value.error == RUNTIME
    assert path in info.value.cause
    assert reason in info.value.cause


def test_select_non_reference_path_without_matches_is_an_empty_list() -> None:
    assert select("$.items[?(@.done == true)]", {"items": [{"done": False}]}, {}, {}) == []


def test_jayway_spellings_leave_quoted_names_and_filters_alone() -> None:
    # A ".[" or "]*" inside a quoted name or a filter is text, not path syntax.
    data: JSON = {"a.[b": [{"n": "]*"}], "x": [{"n": ".[*]*"}, {"n": "y"}]}
    assert select("$['a.[b'][*].n", data, {}, {}) == ["]*"]
    assert select("$.x.[?(@.n == '.[*]*')]", data, {}, {}) == [{"n": ".[*]*"}]


# ASL spec, "Reference Paths": only "." and "[]" notation; "@ .. , : ? *" are not allowed.
@pytest.mark.parametrize(
    ("path", "reference", "valid"),
    [
        ("$", True, True),
        ("$.a.b[0]", True, True),
        ("$['a b'].c", True, True),
        ("$.abc.['def ghi']", True, True),
        ("$.error-info", True, True),
        ("$$", True, True),
        ("$$.Execution.Input", True, True),
        ("$myVar", True, True),
        ("$myVar.items[2]", True, True),
        ("$.a[*]", False, True),
        ("$..a", False, True),
        ("$.a[1:3]", False, True),
        ("$.a[?(@.b > 1)]", False, True),
        ("$.a[0,1]", False, True),
        # Jayway JsonPath, which Step Functions' paths follow (developer guide, "Paths"):
        # surrounding whitespace is trimmed, a dot may precede a bracket, "*" may follow one.
        (" $.a ", True, True),
        ("$$.Execution.Name ", True, True),
        ("$.a.[*]*", False, True),
        ("$.[?(@.OU > 0)]", False, True),
        ("", False, False),
        ("a", False, False),
        ("$.", False, False),
        ("$.a[?(@.b >", False, False),
        ("$1abc", False, False),
        ("$" + "v" * 81, False, False),
    ],
)
def test_path_classification(path: str, reference: bool, valid: bool) -> None:
    assert is_reference_path(path) is reference
    assert is_valid_path(path) is valid


# Developer guide, "InputPath": the InputPath example; ASL spec, "InputPath": null discards
# the input ("the effective input for the state is an empty JSON object").
INPUT_PATH_INPUT: JSON = {
    "comment": "Example for InputPath.",
    "dataset1": {"val1": 1, "val2": 2, "val3": 3},
    "dataset2": {"val1": "a", "val2": "b", "val3": "c"},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.dataset2", {"val1": "a", "val2": "b", "val3": "c"}),
        ("$", INPUT_PATH_INPUT),
        (MISSING, INPUT_PATH_INPUT),
        (None, {}),
    ],
)
def test_input_and_output_path(path: Any, expected: JSON) -> None:
    assert input_path(path, INPUT_PATH_INPUT, {}, {}) == expected
    assert output_path(path, INPUT_PATH_INPUT, {}, {}) == expected


def test_input_path_selecting_nothing_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        input_path("$.dataset3", INPUT_PATH_INPUT, {}, {})
    assert info.value.error == RUNTIME
    assert "$.dataset3" in info.value.cause


# ASL spec, "Parameters": the "X" example with InputPath-free input and Context {DayOfWeek}.
# Developer guide, "Parameters": the product example. Developer guide, "ResultSelector": the
# EMR createCluster example.
@pytest.mark.parametrize(
    ("template", "data", "context", "expected"),
    [
        (
            {
                "flagged": True,
                "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[3:]"},
                "weekday.$": "$$.DayOfWeek",
            },
            {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]},
            {"DayOfWeek": "TUESDAY"},
            {"flagged": True, "parts": {"first": 0, "last3": [30, 40, 50]}, "weekday": "TUESDAY"},
        ),
        (
            {
                "comment": "Selecting what I care about.",
                "MyDetails": {
                    "size.$": "$.product.details.size",
                    "exists.$": "$.product.availability",
                    "StaticValue": "foo",
                },
            },
            {
                "comment": "Example for Parameters.",
                "product": {
                    "details": {"color": "blue", "size": "small", "material": "cotton"},
                    "availability": "in stock",
                    "sku": "2317",
                    "cost": "$23",
                },
            },
            {},
            {
                "comment": "Selecting what I care about.",
                "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"},
            },
        ),
        (
            {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"},
            {
                "resourceType": "elasticmapreduce",
                "resource": "createCluster.sync",
                "output": {"SdkHttpMetadata": {}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"},
            },
            {},
            {"ClusterId": "AKIAIOSFODNN7EXAMPLE", "ResourceType": "elasticmapreduce"},
        ),
        # Developer guide, "Intrinsic functions": "BuildId.$": "States.Array($.Id)".
        ({"BuildId.$": "States.Array($.Id)"}, {"Id": 123456}, {}, {"BuildId": [123456]}),
        # Templates recurse into arrays; non-".$" values are copied as they are.
        (
            {"list": [{"v.$": "$.a"}, "$.a", 1, None]},
            {"a": "A"},
            {},
            {"list": [{"v": "A"}, "$.a", 1, None]},
        ),
    ],
)
def test_payload_template(template: JSON, data: JSON, context: JSON, expected: JSON) -> None:
    assert payload_template(template, data, context, {}, field="Parameters") == expected


# ASL spec, "Parameters" and Appendix A; developer guide, "Error names": "States.
# ParameterPathFailure: Within a state's Parameters field, the attempt to replace a field whose
# name ends in .$ using a path failed." Intrinsic failures are States.IntrinsicFailure, but an
# intrinsic's Path argument that selects nothing is States.Runtime, as AWS reports it.
@pytest.mark.parametrize(
    ("template", "field", "error", "cause"),
    [
        (
            {"user.$": "$.x"},
            "Parameters",
            PARAMETER_PATH_FAILURE,
            "The JSONPath '$.x' specified for the field 'user.$' could not be found in the "
            """input '{"z":1}'""",
        ),
        (
            {"a": {"b": [{"c.$": "$.x.y"}]}},
            "ResultSelector",
            PARAMETER_PATH_FAILURE,
            "The JSONPath '$.x.y' specified for the field 'c.$'",
        ),
        ({"v.$": 3}, "ItemSelector", PARAMETER_PATH_FAILURE, "ItemSelector.v.$"),
        ({"v.$": "$undefined"}, "Parameters", PARAMETER_PATH_FAILURE, "$undefined"),
        ({"v.$": "States.ArrayLength($.x)"}, "Parameters", RUNTIME, "$.x"),
    ],
)
def test_payload_template_errors(template: JSON, field: str, error: str, cause: str) -> None:
    with pytest.raises(StatesError) as info:
        payload_template(template, {"z": 1}, {}, {}, field=field)
    assert info.value.error == error
    assert cause in info.value.cause


# Developer guide, "Specifying state output using ResultPath": its input, result and outputs.
RESULT_PATH_INPUT: dict[str, JSON] = {
    "comment": "This is a test",
    "details": "Default example",
    "who": "Step Functions",
}
TASK_RESULT = "Hello, Step Functions!"


@pytest.mark.parametrize(
    ("path", "state_input", "result", "expected"),
    [
        ("$", RESULT_PATH_INPUT, TASK_RESULT, TASK_RESULT),
        (MISSING, RESULT_PATH_INPUT, TASK_RESULT, TASK_RESULT),
        (None, RESULT_PATH_INPUT, TASK_RESULT, RESULT_PATH_INPUT),
        (
            "$.taskresult",
            RESULT_PATH_INPUT,
            TASK_RESULT,
            {**RESULT_PATH_INPUT, "taskresult": TASK_RESULT},
        ),
        (
            "$.strings.lambdaresult",
            {
                "comment": "An input comment.",
                "strings": {"string1": "foo", "string2": "bar", "string3": "baz"},
                "who": "AWS Step Functions",
            },
            "Hello, AWS Step Functions!",
            {
                "comment": "An input comment.",
                "strings": {
                    "string1": "foo",
                    "string2": "bar",
                    "string3": "baz",
                    "lambdaresult": "Hello, AWS Step Functions!",
                },
                "who": "AWS Step Functions",
            },
        ),
        (
            "$.comment",
            RESULT_PATH_INPUT,
            TASK_RESULT,
            {**RESULT_PATH_INPUT, "comment": TASK_RESULT},
        ),
        # "Use ResultPath to include both error and input in a Catch".
        (
            "$.error",
            {"foo": "bar"},
            {"Error": "Error here"},
            {"foo": "bar", "error": {"Error": "Error here"}},
        ),
        # ResultSelector example: "ResultPath": "$.EMROutput".
        ("$.EMROutput", {"a": 1}, {"ClusterId": "X"}, {"a": 1, "EMROutput": {"ClusterId": "X"}}),
        # Intermediate objects are created; an existing array element can be replaced.
        ("$.a.b.c", {}, 1, {"a": {"b": {"c": 1}}}),
        ("$.list[1]", {"list": [0, 0]}, 9, {"list": [0, 9]}),
        ("$.list[0].x", {"list": [{}]}, 9, {"list": [{"x": 9}]}),
    ],
)
def test_result_path(path: Any, state_input: JSON, result: JSON, expected: JSON) -> None:
    assert result_path(path, state_input, result) == expected


# ASL spec, Appendix A: "States.ResultPathMatchFailure: a state's ResultPath field cannot be
# applied to the input the state received".
@pytest.mark.parametrize(
    ("path", "state_input", "reason"),
    [
        ("$.a.b", {"a": "text"}, "goes through a str"),
        ("$.a.b", {"a": 5}, "goes through a int"),
        ("$.a", "just a string", "goes through a str"),
        ("$.a[3]", {"a": [1]}, "no element [3]"),
        ("$.a[0]", {}, "no element [0]"),
        ("$.a[*]", {}, "not a reference path"),
        ("$$.Execution", {}, "not a reference path"),
        ("$var.x", {}, "not a reference path"),
        ("nope", {}, "must begin with '$'"),
    ],
)
def test_result_path_errors(path: str, state_input: JSON, reason: str) -> None:
    with pytest.raises(StatesError) as info:
        result_path(path, state_input, 1)
    assert info.value.error == RESULT_PATH_MATCH_FAILURE
    assert path in info.value.cause
    assert reason in info.value.cause


# Developer guide, "Passing data between states with variables", "Assigning variables in
# JSONPath": the example Assign block, with "$" the task result and "$$" the Context object.
def test_assign_documented_example() -> None:
    block: JSON = {
        "details": {"status": "SUCCESS", "lineItems.$": "$.order.items"},
        "resultCode.$": "$.result.code",
        "message.$": "States.Format('Hello {}', $customer.name)",
        "startTime.$": "$$.Execution.StartTime",
    }
    result: JSON = {"order": {"items": [1, 2]}, "result": {"code": 200}}
    context: JSON = {"Execution": {"StartTime": "2024-11-22T00:00:00Z"}}
    variables: dict[str, JSON] = {"customer": {"name": "Ana"}}
    assert assign_jsonpath(block, result, context, variables) == {
        "details": {"status": "SUCCESS", "lineItems": [1, 2]},
        "resultCode": 200,
        "message": "Hello Ana",
        "startTime": "2024-11-22T00:00:00Z",
    }


# Developer guide, "Evaluation order in an assign field": starting $x=3, $a=6, assigning
# x <- $a and nextX <- $x ends with $x=6, $nextX=3.
def test_assign_uses_values_from_state_entry() -> None:
    variables: dict[str, JSON] = {"x": 3, "a": 6}
    assigned = assign_jsonpath({"x.$": "$a", "nextX.$": "$x"}, {}, {}, variables)
    assert assigned == {"x": 6, "nextX": 3}
    assert variables == {"x": 3, "a": 6}


def test_assign_errors() -> None:
    with pytest.raises(StatesError) as info:
        assign_jsonpath({"v.$": "$.nothing"}, {}, {}, {})
    assert info.value.error == PARAMETER_PATH_FAILURE
    assert "The JSONPath '$.nothing' specified for the field 'v.$'" in info.value.cause
    with pytest.raises(StatesError):
        assign_jsonpath([1], {}, {}, {})


def test_assign_passes_the_random_source_to_intrinsics() -> None:
    first = assign_jsonpath({"id.$": "States.UUID()"}, {}, {}, {}, random.Random(7))
    again = assign_jsonpath({"id.$": "States.UUID()"}, {}, {}, {}, random.Random(7))
    assert first == again


# Properties -------------------------------------------------------------------------------

_KEYS = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
_SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5)
_JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=20,
)
_STEPS = st.lists(st.one_of(_KEYS, st.integers(0, 3)), max_size=4)


def _path(steps: list[str | int]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


@given(_JSON_VALUES)
def test_select_root_is_identity(value: JSON) -> None:
    assert select("$", value, {}, {}) == value


@given(_JSON_VALUES, _STEPS)
def test_reference_walk_agrees_with_jsonpath_ng(value: JSON, steps: list[str | int]) -> None:
    path = _path(steps)
    matches = [m.value for m in jsonpath_parse(path).find(value)]
    try:
        selected = select(path, value, {}, {})
    except StatesError:
        assert matches == []
    else:
        assert matches == [selected]


@given(_JSON_VALUES, _STEPS, _JSON_VALUES)
def test_paths_never_mutate_their_input(value: JSON, steps: list[str | int], result: JSON) -> None:
    path = _path(steps)
    before, result_before = copy.deepcopy(value), copy.deepcopy(result)
    calls: list[Callable[[], object]] = [
        lambda: select(path, value, value, {"v": value}),
        lambda: input_path(path, value, {}, {}),
        lambda: result_path(path, value, result),
        lambda: payload_template({"k.$": path, "s": [value]}, value, {}, {}, field="Parameters"),
        lambda: assign_jsonpath({"k.$": path}, value, {}, {"v": value}),
    ]
    for call in calls:
        try:
            call()
        except StatesError:
            pass
    assert value == before
    assert result == result_before


@given(
    st.dictionaries(_KEYS, _JSON_VALUES, max_size=4),
    st.lists(_KEYS, min_size=1, max_size=4),
    _JSON_VALUES,
)
def test_result_path_then_select_returns_the_result(
    state_input: dict[str, JSON], keys: list[str], result: JSON
) -> None:
    path = _path(list(keys))
    try:
        combined = result_path(path, state_input, result)
    except StatesError as exc:
        assert exc.error == RESULT_PATH_MATCH_FAILURE
        return
    assert select(path, combined, {}, {}) == result


def test_sentinel_is_not_null() -> None:
    assert MISSING is not None
    assert re.fullmatch("MISSING", repr(MISSING))
