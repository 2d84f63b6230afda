"""JSONata in JSONata states (legato.core.asl.jsonata_query).

Cases come from the AWS Step Functions developer guide; each table names its section.
"""

from __future__ import annotations

import copy
import hashlib
import random
import re
import uuid
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.asl import jsonata_query
from legato.core.asl.errors import StatesError
from legato.core.asl.jsonata_query import (
    check_syntax,
    evaluate_assign,
    evaluate_condition,
    evaluate_template,
    is_expression,
)
from legato.core.error_names import QUERY_EVALUATION_ERROR
from legato.core.events import JSON

EXECUTION_ID = "arn:aws:states:us-east-1:123456789012:execution:sm:run-1"
CONTEXT: dict[str, JSON] = {
    "Execution": {
        "Id": EXECUTION_ID,
        "StartTime": "2024-11-20T10:00:00Z",
    },
    "State": {"EnteredTime": "2024-11-20T10:00:05.250Z", "Name": "Step", "RetryCount": 0},
    "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:sm"},
}


def states(input: JSON = None, more: Mapping[str, JSON] | None = None) -> dict[str, JSON]:
    return {"input": input, "context": CONTEXT, **(more or {})}


def run(
    template: JSON,
    input: JSON = None,
    variables: Mapping[str, JSON] | None = None,
    rng: random.Random | None = None,
    more: Mapping[str, JSON] | None = None,
) -> JSON:
    return evaluate_template(
        template, states(input, more), variables or {}, field="Output", rng=rng
    )


def failure(template: JSON, field: str = "Output", **kwargs: JSON) -> StatesError:
    with pytest.raises(StatesError) as caught:
        evaluate_template(template, states(kwargs.pop("input", None)), kwargs, field=field)
    assert caught.value.error == QUERY_EVALUATION_ERROR
    return caught.value


# "Writing JSONata expressions in JSON strings": "the string must start with {% with no leading
# spaces, and must end with %} with no trailing spaces".
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% $timeout %}", True),
        ("{%$x%}", True),
        ("{% %}", True),
        (" {% $x %}", False),
        ("{% $x %} ", False),
        ("{%}", False),
        ("{% $x", False),
        ("$customerName", False),
        ("%} {%", False),
        (42, False),
        (None, False),
        (["{% $x %}"], False),
    ],
)
def test_is_expression(value: JSON, expected: bool) -> None:
    assert is_expression(value) is expected


# "Transforming data with JSONata in Step Functions": the JSONPath-to-JSONata Arguments sample;
# "Writing JSONata expressions in JSON strings"; "Arguments and Output Fields"; the examples
# "Input and Output" and "Filtering with JSONata".
PRODUCTS: JSON = [
    {"calories": 140, "flavour": "Cola", "name": "Product-1"},
    {"calories": 0, "flavour": "Cola", "name": "Product-2"},
    {"calories": 160, "flavour": "Orange", "name": "Product-3"},
    {"calories": 100, "flavour": "Orange", "name": "Product-4"},
    {"calories": 0, "flavour": "Lime", "name": "Product-5"},
]


@pytest.mark.parametrize(
    ("template", "input", "variables", "expected"),
    [
        (
            {
                "static": "Hello",
                "title": "{% $states.input.title %}",
                "name": "{% $customerName %}",
                "not-evaluated": "$customerName",
            },
            {"title": "Doctor"},
            {"customerName": "María"},
            {
                "static": "Hello",
                "title": "Doctor",
                "name": "María",
                "not-evaluated": "$customerName",
            },
        ),
        ("{% $timeout %}", None, {"timeout": 30}, 30),
        ({"field1": "{% $name %}"}, None, {"name": "n"}, {"field1": "n"}),
        ([1, "{% $two %}", 3], None, {"two": 2}, [1, 2, 3]),
        (
            {
                "lastName": "{% 'Last=>' & $states.input.customer.lastName %}",
                "orderValue": "{% $states.input.order.total %}",
            },
            {
                "customer": {"firstName": "Martha", "lastName": "Rivera"},
                "order": {"items": 7, "total": 27.91},
            },
            {},
            {"lastName": "Last=>Rivera", "orderValue": 27.91},
        ),
        (
            {"dietProducts": "{% $states.input.products[calories=0] %}"},
            {"products": PRODUCTS},
            {},
            {"dietProducts": [PRODUCTS[1], PRODUCTS[4]]},  # type: ignore[index]
        ),
        (True, None, {}, True),
        (42, None, {}, 42),
        ({"{% $x %}": "key"}, None, {"x": 1}, {"{% $x %}": "key"}),
        ({"deep": [{"deeper": ["{% $x * 2 %}"]}]}, None, {"x": 4}, {"deep": [{"deeper": [8]}]}),
    ],
)
def test_guide_templates(
    template: JSON, input: JSON, variables: dict[str, JSON], expected: JSON
) -> None:
    assert run(template, input, variables) == expected


# Values crossing the library come back as plain JSON; whole numbers as ints (JSON numbers
# print without ".0"), JSON null distinct from undefined.
@pytest.mark.parametrize(
    ("expression", "input", "expected"),
    [
        ("{% 1 + 2 %}", None, 3),
        ("{% 6 / 2 %}", None, 3),
        ("{% 7 / 2 %}", None, 3.5),
        ("{% $states.input.n %}", {"n": 5.0}, 5),
        ("{% $states.input.n %}", {"n": 1e300}, 1e300),
        ("{% [1..3] %}", None, [1, 2, 3]),
        ("{% $states.input.a.v %}", {"a": [{"v": 1}, {"v": 2}]}, [1, 2]),
        ("{% $states.input.a %}", {"a": None}, None),
        ("{% $states.input.a = null %}", {"a": None}, True),
        ("{% $states.input %}", None, None),
        ("{% $states.input.list %}", {"list": [1, None, [None]]}, [1, None, [None]]),
        ("{% {'k': $states.input.missing, 'j': 1} %}", {}, {"j": 1}),
        ("{% null %}", None, None),
        ("{% ($a := 2; $a * $a) %}", None, 4),
    ],
)
def test_values_are_plain_json(expression: str, input: JSON, expected: JSON) -> None:
    result = run(expression, input)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(result, list):
        assert type(result) is list


# "Reserved variable: $states": input, result, errorOutput (in a Catch), context.
@pytest.mark.parametrize(
    ("expression", "more", "expected"),
    [
        ("{% $states.input.id %}", {}, 7),
        (
            "{% $states.result.Payload.current_price %}",
            {"result": {"Payload": {"current_price": 9}}},
            9,
        ),
        ("{% $states.errorOutput.Error %}", {"errorOutput": {"Error": "E", "Cause": "c"}}, "E"),
        ("{% $states.context.Execution.Id %}", {}, EXECUTION_ID),
        ("{% $states.context.State.RetryCount %}", {}, 0),
    ],
)
def test_states_variable(expression: str, more: dict[str, JSON], expected: JSON) -> None:
    assert run(expression, {"id": 7}, more=more) == expected


def test_states_is_reserved_over_a_variable_of_that_name() -> None:
    assert run("{% $states.input %}", 1, {"states": "shadow"}) == 1


def test_map_context_in_item_selector() -> None:
    """Section "Context object data for Map states": ItemSelector reads the Map item."""
    context: JSON = {**CONTEXT, "Map": {"Item": {"Index": 2, "Value": "c", "Source": "STATE_DATA"}}}
    selector: JSON = {
        "ContextIndex": "{% $states.context.Map.Item.Index %}",
        "ContextValue": "{% $states.context.Map.Item.Value %}",
        "ContextSource": "{% $states.context.Map.Item.Source %}",
    }
    result = evaluate_template(
        selector, {"input": {}, "context": context}, {}, field="ItemSelector"
    )
    assert result == {"ContextIndex": 2, "ContextValue": "c", "ContextSource": "STATE_DATA"}


# "Choice workflow state", "Choice Rules (JSONata)": a Condition evaluates to true/false.
@pytest.mark.parametrize(
    ("condition", "variables", "expected"),
    [
        ("{% $foo = 1 %}", {"foo": 1}, True),
        ("{% $foo = 1 %}", {"foo": 2}, False),
        ("{% $type = 'local' %}", {"type": "local"}, True),
        ("{% $foo > 'MyStringABC' %}", {"foo": "MyStringXYZ"}, True),
        (
            "{% $possiblyNullValue != null and $possiblyNullValue = 42 %}",
            {"possiblyNullValue": 42},
            True,
        ),
        (
            "{% $possiblyNullValue != null and $possiblyNullValue = 42 %}",
            {"possiblyNullValue": None},
            False,
        ),
        ("{% $current_price <= $states.input.desired_price %}", {"current_price": 8}, True),
        ("{% $states.input.missing = 1 %}", {}, False),
    ],
)
def test_condition(condition: str, variables: dict[str, JSON], expected: bool) -> None:
    assert (
        evaluate_condition(
            condition, states({"desired_price": 10}), variables, field="Choices[0].Condition"
        )
        is expected
    )


@pytest.mark.parametrize(
    ("condition", "shown"),
    [
        ("{% 'yes' %}", '"yes"'),
        ("{% 1 %}", "1"),
        ("{% null %}", "null"),
        ("{% [true] %}", "[true]"),
        ("{% $states.input.missing %}", "nothing (undefined)"),
        ("$foo = 1", "not a JSONata expression"),
    ],
)
def test_condition_that_is_not_boolean_fails(condition: str, shown: str) -> None:
    with pytest.raises(StatesError) as caught:
        evaluate_condition(condition, states({}), {}, field="Choices[1].Condition")
    assert caught.value.error == QUERY_EVALUATION_ERROR
    assert "'Choices[1].Condition'" in caught.value.cause
    assert shown in caught.value.cause


# "Passing data between states with variables", "Evaluation order in an assign field".
def test_assign_evaluates_against_the_variables_on_state_entry() -> None:
    block: JSON = {"x": "{% $a %}", "nextX": "{% $x %}"}
    assert evaluate_assign(block, states(), {"x": 3, "a": 6}) == {"x": 6, "nextX": 3}


@pytest.mark.parametrize(
    ("block", "more", "expected"),
    [
        (
            {"productName": "product1", "count": 42, "available": True},
            {},
            {"productName": "product1", "count": 42, "available": True},
        ),
        (
            {
                "desiredPrice": "{% $states.input.desired_price %}",
                "maximumWait": "{% $states.input.max_days %}",
            },
            {},
            {"desiredPrice": 10, "maximumWait": 3},
        ),
        (
            {
                "product": "{% $states.input.order.product %}",
                "currentPrice": "{% $states.result.Payload.current_price %}",
            },
            {"result": {"Payload": {"current_price": 9}}},
            {"product": "p", "currentPrice": 9},
        ),
        (
            {"error": "{% $states.errorOutput %}"},
            {"errorOutput": {"Error": "E", "Cause": "c"}},
            {"error": {"Error": "E", "Cause": "c"}},
        ),
    ],
)
def test_assign_guide_examples(block: JSON, more: dict[str, JSON], expected: JSON) -> None:
    input: JSON = {"desired_price": 10, "max_days": 3, "order": {"product": "p"}}
    assert evaluate_assign(block, states(input, more), {}) == expected


def test_assign_must_be_an_object_and_names_its_field() -> None:
    with pytest.raises(StatesError, match="Catch\\[0\\].Assign") as caught:
        evaluate_assign("{% 1 %}", states(), {}, field="Catch[0].Assign")
    assert caught.value.error == QUERY_EVALUATION_ERROR
    cause = failure_cause(lambda: evaluate_assign({"v": "{% $nope %}"}, states(), {}))
    assert "'Assign/v'" in cause  # as AWS names a nested field


def failure_cause(call: object) -> str:
    with pytest.raises(StatesError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.error == QUERY_EVALUATION_ERROR
    return caught.value.cause


# "JSONata functions provided by Step Functions".
@pytest.mark.parametrize(
    ("expression", "input", "expected"),
    [
        (
            "{% $partition([1,2,3,4], $states.input.chunkSize) %}",
            {"chunkSize": 3},
            [[1, 2, 3], [4]],
        ),
        ("{% $partition([1,2,3,4,5,6], 2.9) %}", None, [[1, 2], [3, 4], [5, 6]]),
        ("{% $partition([], 2) %}", None, []),
        ("{% $partition([1..5], 5) %}", None, [[1, 2, 3, 4, 5]]),
        ("{% $range(0, 10, 2) %}", None, [0, 2, 4, 6, 8, 10]),
        ("{% $range(1, 9, 2) %}", None, [1, 3, 5, 7, 9]),
        ("{% $range(10, 0, -3) %}", None, [10, 7, 4, 1]),
        ("{% $range(1, 4.7, 1.2) %}", None, [1, 2, 3, 4]),
        ("{% [$range(5, 1, 1)] %}", None, []),
        (
            "{% $parse($states.input.json_string) %}",
            {"json_string": '{"a": [1, null]}'},
            {"a": [1, None]},
        ),
        ("{% $parse('null') = null %}", None, True),
        ("{% $parse('[1.5, \"x\"]') %}", None, [1.5, "x"]),
    ],
)
def test_added_functions(expression: str, input: JSON, expected: JSON) -> None:
    assert run(expression, input) == expected


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "900150983cd24fb0d6963f7d28e17f72"),
        ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("SHA-384", hashlib.sha384(b"abc").hexdigest()),
        ("SHA-512", hashlib.sha512(b"abc").hexdigest()),
    ],
)
def test_hash(algorithm: str, digest: str) -> None:
    expression = "{% $hash($states.input.content, $hashAlgorithmName) %}"
    assert run(expression, {"content": "abc"}, {"hashAlgorithmName": algorithm}) == digest


def test_random_draws_from_the_given_source_only() -> None:
    draws = run(["{% $random() %}", "{% $random() %}"], rng=random.Random(7))
    source = random.Random(7)
    assert draws == [source.random(), source.random()]


@pytest.mark.parametrize("seed", [3, 3.9, 123456789])
def test_random_with_a_seed_repeats(seed: float) -> None:
    """The guide: "with the same seed value, it returns an identical number"."""
    template: JSON = ["{% $random($states.input.seed) %}"] * 2
    draws = run(template, {"seed": seed}, rng=random.Random(1))
    assert isinstance(draws, list)
    first, second = draws
    assert first == second == random.Random(int(seed)).random()
    assert isinstance(first, float) and 0 <= first < 1


def test_uuid_is_version_4_and_replays() -> None:
    one = run("{% $uuid() %}", rng=random.Random(5))
    assert isinstance(one, str)
    assert uuid.UUID(one).version == 4
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", one)
    assert run("{% $uuid() %}", rng=random.Random(5)) == one
    assert run("{% $uuid() %}", rng=random.Random(6)) != one


def test_shuffle_draws_from_the_given_source() -> None:
    """JSONata's own ``$shuffle`` would use the process's random module; replays must agree."""
    items: list[JSON] = list(range(20))
    shuffled = run("{% $shuffle($states.input) %}", items, rng=random.Random(3))
    expected = list(items)
    random.Random(3).shuffle(expected)
    assert shuffled == expected
    assert items == list(range(20))


@pytest.mark.parametrize(
    "expression", ["{% $random() %}", "{% $uuid() %}", "{% $shuffle([1, 2]) %}"]
)
def test_random_and_uuid_need_a_source(expression: str) -> None:
    assert "random source" in failure(expression).cause


# $now()/$millis() are JSONata built-ins the guide leaves available; here they read the time
# the state was entered, so a replay sees the same value.
@pytest.mark.parametrize(
    ("context", "expression", "expected"),
    [
        (CONTEXT, "{% $millis() %}", 1732096805250),
        (CONTEXT, "{% $now() %}", "2024-11-20T10:00:05.250Z"),
        (CONTEXT, "{% $now('[Y0001]-[M01]-[D01]') %}", "2024-11-20"),
        ({"Execution": {"StartTime": "2024-11-20T10:00:00Z"}}, "{% $millis() %}", 1732096800000),
        ({"State": {"EnteredTime": "2024-11-20T10:00:00"}}, "{% $millis() %}", 1732096800000),
    ],
)
def test_now_and_millis_read_the_state_entry_time(
    context: JSON, expression: str, expected: JSON
) -> None:
    assert evaluate_template(expression, {"input": {}, "context": context}, {}, field="O") == (
        expected
    )


def test_now_without_an_entry_time_fails() -> None:
    cause = failure_cause(lambda: evaluate_template("{% $now() %}", {"input": 1}, {}, field="O"))
    assert "EnteredTime" in cause


# "Handling expression errors": each failure is States.QueryEvaluationError; the cause names
# the field and the expression.
@pytest.mark.parametrize(
    ("template", "variables", "field", "in_cause"),
    [
        ({"user": "{% $x + $y %}"}, {"x": "a", "y": 1}, "Arguments/user", "T2001"),
        (
            {"user": "{% $data.thisFieldDoesNotExist %}"},
            {"data": {}},
            "Arguments/user",
            "returned nothing (undefined)",
        ),
        ([1, "{% $two %}"], {}, "Arguments[1]", "undefined"),
        ("{% 1 + %}", {}, "Arguments", "Unexpected end of expression"),
        ("{% $eval('1') %}", {}, "Arguments", "$eval is not supported"),
        ("{% function($a) { $a } %}", {}, "Arguments", "function"),
        ("{% $partition([1], 0) %}", {}, "Arguments", "chunk size must be positive"),
        ("{% $partition('a', 1) %}", {}, "Arguments", "must be an array"),
        ("{% $range(1, 2, 0) %}", {}, "Arguments", "step must not be 0"),
        ("{% $range(0, 1000, 1) %}", {}, "Arguments", "more than 1000 items"),
        ("{% $range('a', 2, 1) %}", {}, "Arguments", "must be a number"),
        ("{% $hash('a', 'SHA-3') %}", {}, "Arguments", "algorithm must be one of"),
        ("{% $hash(1, 'MD5') %}", {}, "Arguments", "must be a string"),
        ("{% $parse('{') %}", {}, "Arguments", "not valid JSON"),
        ("{% $parse('NaN') %}", {}, "Arguments", "not valid JSON"),
        ("{% true and $random() %}", {}, "Arguments", "random source"),
        (
            "{% ($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000)) %}",
            {},
            "Arguments",
            "Stack overflow",
        ),
    ],
)
def test_expression_errors(
    template: JSON, variables: dict[str, JSON], field: str, in_cause: str
) -> None:
    error = failure(template, field="Arguments", **variables)
    assert f"specified for the field '{field}'" in error.cause
    assert in_cause in error.cause


def test_cause_quotes_the_expression() -> None:
    error = failure({"user": "{%  $nope  %}"}, field="Arguments")
    assert error.cause == (
        "The JSONata expression '$nope' specified for the field "
        "'Arguments/user' returned nothing (undefined)."
    )


def test_a_runaway_expression_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonata_query, "MAX_STEPS", 1_000)
    error = failure("{% ($f := function($n) { $f($n) }; $f(1)) %}")
    assert "Expression evaluation timeout" in error.cause


def test_bindings_stay_inside_one_expression() -> None:
    assert run(["{% ($a := 1; $a) %}", "{% $a %}"], variables={"a": "outer"}) == [1, "outer"]


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("{% $states.input.a %}", True),
        ("{% ($x := 1; $x + 1) %}", True),
        ("{% $partition([1], 1) %}", True),
        ("{% 1 + %}", False),
        ("{% $foo( %}", False),
        ("{% %}", False),
        (" {% 1 %}", False),
        ("{% 1 %} ", False),
        ("1 + 1", False),
    ],
)
def test_check_syntax(text: str, valid: bool) -> None:
    message = check_syntax(text)
    assert (message is None) is valid
    if not valid:
        assert isinstance(message, str) and message


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
plain_templates = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text().filter(lambda s: not is_expression(s)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(plain_templates, json_values)
def test_a_template_without_expressions_is_returned_unchanged(template: JSON, input: JSON) -> None:
    before = copy.deepcopy(template)
    assert evaluate_template(template, states(input), {"v": input}, field="Output") == before
    assert template == before


@given(json_values)
def test_states_input_round_trips_without_mutation(input: JSON) -> None:
    before = copy.deepcopy(input)
    assert run("{% $states.input %}", input) == before
    assert input == before


@given(json_values, json_values)
def test_assign_swaps_in_parallel(a: JSON, b: JSON) -> None:
    block: JSON = {"a": "{% $b %}", "b": "{% $a %}"}
    assert evaluate_assign(block, states(), {"a": a, "b": b}) == {"a": b, "b": a}
