"""Intrinsic functions: parsing, checking and evaluating every documented function."""

from __future__ import annotations

import json
import random
import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.asl.errors import StatesError
from legato.core.asl.intrinsics import (
    Call,
    Constant,
    IntrinsicSyntaxError,
    PathArg,
    StringLiteral,
    check,
    evaluate,
    is_intrinsic,
    parse,
)
from legato.core.error_names import INTRINSIC_FAILURE, RUNTIME
from legato.core.events import JSON


def run(text: str, data: JSON = None, rng: random.Random | None = None) -> JSON:
    return evaluate(text, data, {"Execution": {"Id": "arn:exec"}}, {"v": {"n": 41}}, rng)


# Developer guide, "Intrinsic functions for JSONPath states": each function's documented input,
# invocation and result.
@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        # "Intrinsics for arrays"
        ("States.Array($.Id)", {"Id": 123456}, [123456]),
        (
            "States.ArrayPartition($.inputArray,4)",
            {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
            [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
        ),
        (
            "States.ArrayContains($.inputArray, $.lookingFor)",
            {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5},
            True,
        ),
        ("States.ArrayRange(1, 9, 2)", None, [1, 3, 5, 7, 9]),
        (
            "States.ArrayGetItem($.inputArray, $.index)",
            {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5},
            6,
        ),
        ("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
        (
            "States.ArrayUnique($.inputArray)",
            {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]},
            [1, 2, 3, 4],
        ),
        # "Intrinsics for data encoding and decoding"
        ("States.Base64Encode($.input)", {"input": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
        # "Intrinsic for hash calculation" (the guide's SHA-1 of "input data")
        (
            "States.Hash($.Data, $.Algorithm)",
            {"Data": "input data", "Algorithm": "SHA-1"},
            "aaff4a450a104cd177d28d18d74485e8cae074b7",
        ),
        # "Intrinsics for JSON data manipulation"
        (
            "States.JsonMerge($.json1, $.json2, false)",
            {
                "json1": {"a": {"a1": 1, "a2": 2}, "b": 2},
                "json2": {"a": {"a3": 1, "a4": 2}, "c": 3},
            },
            {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
        ),
        (
            "States.StringToJson($.escapedJsonString)",
            {"escapedJsonString": '{"foo": "bar"}'},
            {"foo": "bar"},
        ),
        # "Intrinsics for Math operations"
        ("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
        # "Intrinsic for String operation"
        (
            "States.StringSplit($.inputString, $.splitter)",
            {"inputString": "1,2,3,4,5", "splitter": ","},
            ["1", "2", "3", "4", "5"],
        ),
        (
            "States.StringSplit($.inputString, $.splitter)",
            {"inputString": "This.is+a,test=string", "splitter": ".+,="},
            ["This", "is", "a", "test", "string"],
        ),
        # "Intrinsic for generic operation"
        (
            "States.Format('Hello, my name is {}.', $.name)",
            {"name": "Arnav", "template": "Hello, my name is {}."},
            "Hello, my name is Arnav.",
        ),
        (
            "States.Format($.template, $.name)",
            {"name": "Arnav", "template": "Hello, my name is {}."},
            "Hello, my name is Arnav.",
        ),
    ],
)
def test_documented_examples(text: str, data: JSON, expected: JSON) -> None:
    assert run(text, data) == expected


# Developer guide, "Intrinsic functions": "You can nest up to 10 intrinsic functions within a
# field", shown by a nine-function myArn example. It parses and checks; evaluating it fails,
# because its template has three {} for two values, against the States.Format rule "There must
# be as many remaining arguments ... as there are occurrences of {}".
MY_ARN = (
    "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit("
    "States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), "
    "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
    "$.ImageRecipe.Arn, '/'), 2), '.'), 1))"
)


def test_nested_documented_example() -> None:
    assert check(MY_ARN) is None
    with pytest.raises(StatesError) as info:
        run(MY_ARN, {"ImageRecipe": {"Arn": "arn:aws:imagebuilder:r:1:image-recipe/name/1.0.2"}})
    assert info.value.error == INTRINSIC_FAILURE
    assert "the template has 3 '{}' but 2 values follow" in info.value.cause
    fixed = MY_ARN.replace("'{}.{}.{}'", "'{}.{}'")
    assert run(
        fixed, {"ImageRecipe": {"Arn": "arn:aws:imagebuilder:r:1:image-recipe/n/1.0.2"}}
    ) == ("1.0")


# Developer guide, States.JsonToString: {"unescapedJson": {"foo": "bar"}} gives the JSON text
# of {"foo": "bar"} (compared as JSON: the guide prints it with a space after the colon).
def test_json_to_string_documented_example() -> None:
    text = run("States.JsonToString($.unescapedJson)", {"unescapedJson": {"foo": "bar"}})
    assert isinstance(text, str)
    assert json.loads(text) == {"foo": "bar"}


# Developer guide, States.Base64Decode: decodes "RGF0YSB0byBlbmNvZGU=" (the Base64 of
# "Data to encode", the Base64Encode example's input).
def test_base64_decode_documented_example() -> None:
    assert run("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}) == (
        "Data to encode"
    )


# Developer guide, "Reserved characters in intrinsic functions": \' \{ \} \\ stand for ' { } \.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"States.Format('it\'s {}', 'x')", "it's x"),
        (r"States.Format('\{\} is {}', 'x')", "{} is x"),
        (r"States.Format('a\\b{}', 'x')", "a\\bx"),
        (r"States.Array('\{', '\}', '\'', '\\')", ["{", "}", "'", "\\"]),
        ("States.Format('{} {} {} {}', 1, 2.5, true, null)", "1 2.5 true null"),
        ("States.Format('{}', $.o)", "{a=[1]}"),
        ("States.Format('{}', $v.n)", "41"),
        ("States.Format('{}', $$.Execution.Id)", "arn:exec"),
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.Array()", []),
        (
            "States.Array(1, 'two', true, null, -3.5e1, $.o, States.Array())",
            [1, "two", True, None, -35.0, {"a": [1]}, []],
        ),
        ("States.MathAdd(1.5, 2.4)", 4),  # non-integers round to the nearest integer
        ("States.MathAdd(-2147483648, 2147483647)", -1),
        ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
        ("States.ArrayRange(1, 0, 1)", []),
        ("States.ArrayPartition(States.Array(1, 2, 3), 1.6)", [[1, 2], [3]]),
        ("States.ArrayContains(States.Array(1, 'a'), 'b')", False),
        ("States.ArrayContains(States.Array(1), true)", False),
        ("States.ArrayUnique(States.Array(1, 1.0, true, $.o, $.o))", [1, True, {"a": [1]}]),
        ("States.Hash('', 'MD5')", "d41d8cd98f00b204e9800998ecf8427e"),
        ("States.StringSplit('a,,b', ',')", ["a", "b"]),
        ("States.StringToJson('[1, null]')", [1, None]),
        ("States.JsonToString($.o)", '{"a":[1]}'),
        ("States.ArrayGetItem(States.Array('x', 'y'), 1.0)", "y"),
        ("  States.ArrayLength( $.list )  ", 3),
        ("States.ArrayLength($.list[?(@ > 1)])", 2),
    ],
)
def test_other_cases(text: str, expected: JSON) -> None:
    assert run(text, {"o": {"a": [1]}, "list": [1, 2, 3]}) == expected


# Developer guide: "The interpreter returns a runtime error" / input validation rules of each
# function; Step Functions reports them as States.IntrinsicFailure (ASL spec, Appendix A).
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("States.Nope(1)", "States.Nope: unknown intrinsic function"),
        ("States.Format('{} {}', 1)", "States.Format: the template has 2"),
        ("States.Format(1)", "States.Format: argument 1"),
        ("States.Array(States.Format())", "States.Format takes at least 1"),
        ("States.ArrayLength(1, 2)", "States.ArrayLength takes 1 argument(s), got 2"),
        ("States.ArrayLength('a')", "States.ArrayLength: argument 1 must be an array, got string"),
        ("States.ArrayPartition(States.Array(1), 0)", "chunk size must be a positive integer"),
        ("States.ArrayRange(1, 10, 0)", "must not be zero"),
        ("States.ArrayRange(0, 1000, 1)", "1001 items, more than 1000"),
        ("States.ArrayRange('1', 2, 1)", "argument 1 must be a number"),
        ("States.ArrayGetItem(States.Array(1), 1)", "index 1 is out of range"),
        ("States.ArrayGetItem(States.Array(1), -1)", "index -1 is out of range"),
        ("States.ArrayGetItem(States.Array(1), 0.5)", "must be an integer"),
        ("States.Base64Decode('not base64!')", "States.Base64Decode: argument 1 is not Base64"),
        ("States.Base64Decode('//8=')", "not Base64 of UTF-8 text"),
        ("States.Hash('x', 'SHA-3')", "unknown algorithm 'SHA-3'"),
        ("States.Hash(1, 'MD5')", "argument 1 must be a string"),
        ("States.JsonMerge($.o, $.o, true)", "deep merging is not supported"),
        ("States.JsonMerge($.o, $.o, 1)", "must be a boolean"),
        ("States.JsonMerge($.o, $.list, false)", "argument 2 must be an object"),
        ("States.StringToJson('{')", "argument 1 is not a JSON text"),
        ("States.StringToJson('NaN')", "not a JSON text"),
        ("States.MathAdd(2147483648, 1)", "outside -2147483648..2147483647"),
        ("States.MathAdd(true, 1)", "argument 1 must be a number, got boolean"),
        ("States.MathRandom(5, 5, 1)", "the start (5) must be less than the end (5)"),
        ("States.MathRandom(1, 9)", "needs a random source"),
        ("States.UUID()", "needs a random source"),
        ("States.UUID(1)", "States.UUID takes 0 argument(s)"),
        ("States.StringSplit('a', 1)", "argument 2 must be a string"),
        ("States.Array(1", "invalid intrinsic function"),
    ],
)
def test_failures(text: str, problem: str) -> None:
    with pytest.raises(StatesError) as info:
        run(text, {"o": {"a": [1]}, "list": [1, 2, 3]})
    assert info.value.error == INTRINSIC_FAILURE
    assert problem in info.value.cause


# Developer guide, "Error names": a Path argument that selects nothing is States.Runtime (as
# AWS reports it), not States.IntrinsicFailure.
def test_path_argument_that_selects_nothing_is_runtime() -> None:
    with pytest.raises(StatesError) as info:
        run("States.ArrayLength($.missing)", {"o": {"a": [1]}})
    assert info.value.error == RUNTIME
    assert "States.ArrayLength: argument 1: path '$.missing'" in info.value.cause


# Developer guide, "Intrinsics for data encoding and decoding" and "hash calculation": inputs of
# up to 10,000 characters.
@pytest.mark.parametrize("function", ["Base64Encode", "Base64Decode"])
def test_string_input_limit(function: str) -> None:
    data: JSON = {"s": "QUFB" * 2500, "long": "QUFB" * 2500 + "QQ=="}
    assert run(f"States.{function}($.s)", data)
    with pytest.raises(StatesError, match="more than 10000"):
        run(f"States.{function}($.long)", data)
    with pytest.raises(StatesError, match="more than 10000"):
        run("States.Hash($.long, 'MD5')", data)


# Developer guide, States.MathRandom: start inclusive, end exclusive; "if you use this function
# with the same seed value, it will return identical numbers". States.UUID: a v4 UUID.
def test_random_functions_use_only_the_given_source() -> None:
    values = {run("States.MathRandom(1, 4)", None, random.Random(i)) for i in range(200)}
    assert values == {1, 2, 3}
    seeded = {run("States.MathRandom(1, 999, 42)", None, random.Random(i)) for i in range(5)}
    assert len(seeded) == 1
    assert run("States.MathRandom(1, 999, 42)") in seeded  # a seed needs no random source
    first = run("States.UUID()", None, random.Random(3))
    assert first == run("States.UUID()", None, random.Random(3))
    assert isinstance(first, str)
    assert uuid.UUID(first).version == 4
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('x')", True),
        ("  States.UUID()  ", True),
        ("States.Array", False),
        ("$.States.Array()", False),
        ("Hello States.Array()", False),
        ("States.Array() tail", False),
    ],
)
def test_is_intrinsic(text: str, expected: bool) -> None:
    assert is_intrinsic(text) is expected


def test_parse_builds_the_ast() -> None:
    call = parse(r"States.Format('a\{b', $.x['k, )'], 1, -2.5, true, null, States.UUID())")
    assert call == Call(
        "Format",
        (
            StringLiteral("a{b", r"a\{b"),
            PathArg("$.x['k, )']", 22),
            Constant(1),
            Constant(-2.5),
            Constant(True),
            Constant(None),
            Call("UUID", (), 56),
        ),
        0,
    )


# Developer guide, "Reserved characters": "If an open escape backslash \ is found in the
# intrinsic invocation string, the interpreter will return a runtime error."
@pytest.mark.parametrize(
    ("text", "position", "what"),
    [
        ("States.Array(", 13, "expected an argument"),
        ("States.Array(1 2)", 15, "expected ',' or ')'"),
        ("States.Array('abc)", 13, "unterminated string literal"),
        (r"States.Array('a\nb')", 15, "open escape backslash"),
        ("States.Array(1,)", 15, "expected an argument"),
        ("States.Array(1))", 15, "after the call"),
        ("States.Array(@)", 13, "unexpected '@'"),
        ("Array(1)", 0, "expected an intrinsic function call"),
        (
            "States.Array(" * 11 + ")" * 11,
            130,
            "more than 10 intrinsic functions",
        ),
    ],
)
def test_syntax_errors(text: str, position: int, what: str) -> None:
    with pytest.raises(IntrinsicSyntaxError) as info:
        parse(text)
    assert info.value.position == position
    assert what in str(info.value)
    assert f"position {position}" in str(info.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("States.Format('{}', $.x)", None),
        ("States.Array(" * 10 + ")" * 10, None),
        ("States.Nope()", "unknown intrinsic function States.Nope at position 0"),
        ("States.Array(States.Hash(1))", "States.Hash takes 2 argument(s), got 1 at position 13"),
        ("States.MathRandom(1)", "States.MathRandom takes 2 to 3 argument(s), got 1"),
        ("States.ArrayLength($.a[?(@.b >)])", "invalid Path"),
        ("States.JsonMerge($.a, $.b, true)", "deep merging is not supported"),
        ("States.Array('x", "unterminated string literal at position 13"),
    ],
)
def test_check(text: str, problem: str | None) -> None:
    found = check(text)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


# Properties -------------------------------------------------------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=15,
)


@given(_JSON_VALUES)
def test_json_to_string_then_string_to_json_round_trips(value: JSON) -> None:
    text = run("States.JsonToString($.v)", {"v": value})
    assert run("States.StringToJson($.t)", {"t": text}) == value


@given(st.lists(_JSON_VALUES, max_size=8))
def test_array_length_equals_argument_count(values: list[JSON]) -> None:
    data = {f"a{i}": v for i, v in enumerate(values)}
    args = ", ".join(f"$.a{i}" for i in range(len(values)))
    assert run(f"States.Array({args})", data) == values
    assert run(f"States.ArrayLength(States.Array({args}))", data) == len(values)


@given(st.lists(_JSON_VALUES, max_size=20), st.integers(1, 25))
def test_array_partition_concatenates_to_the_input(items: list[JSON], size: int) -> None:
    chunks = run("States.ArrayPartition($.items, $.size)", {"items": items, "size": size})
    assert isinstance(chunks, list)
    assert [item for chunk in chunks for item in chunk] == items  # type: ignore[union-attr]
    assert all(1 <= len(chunk) <= size for chunk in chunks)  # type: ignore[arg-type]


@given(st.lists(_JSON_VALUES, max_size=12))
def test_array_unique_is_idempotent(items: list[JSON]) -> None:
    once = run("States.ArrayUnique($.items)", {"items": items})
    assert run("States.ArrayUnique($.items)", {"items": once}) == once


@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1))
def test_math_add_matches_integer_addition(a: int, b: int) -> None:
    assert run("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == a + b


@given(st.text(max_size=200))
def test_base64_round_trips_strings(text: str) -> None:
    encoded = run("States.Base64Encode($.s)", {"s": text})
    assert run("States.Base64Decode($.e)", {"e": encoded}) == text
