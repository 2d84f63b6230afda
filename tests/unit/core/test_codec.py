"""The JSON codec (legato.core.codec): encoding, error messages, validation on the way back."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.codec import Signature, dumps, loads
from legato.errors import SerializationError

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_dumps_loads_round_trip(value: Any) -> None:
    text = dumps(value, "test value")
    assert loads(text) == value
    assert json.loads(text) == value  # plain JSON, readable by anything


def test_loads_none_is_none() -> None:
    assert loads(None) is None


class Opaque:
    pass


@pytest.mark.parametrize("value", [object(), Opaque(), [1, Opaque()], {"k": Opaque()}])
def test_dumps_names_what_and_the_type(value: Any) -> None:
    with pytest.raises(SerializationError) as info:
        dumps(value, "result of step 'fetch'")
    text = str(info.value)
    assert text.startswith("result of step 'fetch': value of type ")
    assert type(value).__name__ in text
    assert isinstance(info.value, TypeError)  # SerializationError is also a TypeError


class Point(pydantic.BaseModel):
    x: int
    y: int


@dataclasses.dataclass
class Box:
    corner: Point
    label: str


def fn(a: int, p: Point, b: Box, when: datetime, extra: list[Point] | None = None) -> Box:
    raise AssertionError("never called")


SIG = Signature(fn)


def test_encode_then_decode_gives_the_annotated_types() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    text = SIG.encode_args(
        (1, Point(x=1, y=2), Box(Point(x=3, y=4), "b"), when), {"extra": [Point(x=5, y=6)]}, "f"
    )
    args, kwargs = SIG.decode_args(text)
    assert args == [1, Point(x=1, y=2), Box(Point(x=3, y=4), "b"), when]
    assert kwargs == {"extra": [Point(x=5, y=6)]}
    assert isinstance(args[2], Box) and isinstance(args[2].corner, Point)
    assert isinstance(kwargs["extra"][0], Point)


def test_decode_validates_plain_json() -> None:
    text = json.dumps(
        [
            [
                "7",
                {"x": "1", "y": 2},
                {"corner": {"x": 0, "y": 0}, "label": "l"},
                "2030-01-02T03:04:05Z",
            ],
            {},
        ]
    )
    args, _ = SIG.decode_args(text)
    assert args[0] == 7 and args[1] == Point(x=1, y=2)
    assert args[3] == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_decode_rejects_what_does_not_fit() -> None:
    with pytest.raises(pydantic.ValidationError):
        SIG.decode_args(json.dumps([[1, {"x": "one", "y": 2}], {}]))


def test_decode_result_uses_the_return_annotation() -> None:
    assert SIG.decode_result('{"corner": {"x": 1, "y": 1}, "label": "r"}') == Box(
        Point(x=1, y=1), "r"
    )
    with pytest.raises(pydantic.ValidationError):
        SIG.decode_result('{"label": "no corner"}')


def test_without_annotations_values_pass_through() -> None:
    def loose(a, b=None):  # type: ignore[no-untyped-def]
        return a

    sig = Signature(loose)
    args, kwargs = sig.decode_args(sig.encode_args(({"k": [1, 2]},), {"b": "x"}, "loose"))
    assert (args, kwargs) == ([{"k": [1, 2]}], {"b": "x"})
    assert sig.decode_result('{"any": true}') == {"any": True}


def test_skip_first_ignores_the_context_parameter() -> None:
    async def wf(ctx: Any, n: int) -> int:
        return n

    sig = Signature(wf, skip_first=True)
    assert sig.decode_args('[["5"],{}]') == ([5], {})


@pytest.mark.parametrize(
    ("args", "kwargs", "named"),
    [
        ((Opaque(),), {}, "argument 0 of type Opaque"),
        ((1, 2, object()), {}, "argument 2 of type object"),
        ((), {"payload": Opaque()}, "argument 'payload' of type Opaque"),
    ],
)
def test_encode_args_names_the_argument_and_its_type(
    args: tuple[Any, ...], kwargs: dict[str, Any], named: str
) -> None:
    with pytest.raises(SerializationError) as info:
        SIG.encode_args(args, kwargs, "input of workflow 'orders'")
    assert str(info.value) == f"input of workflow 'orders': {named} is not JSON-serialisable"


class Pair(pydantic.BaseModel):
    left: int
    right: str


async def returns_int() -> int:
    return 0


async def returns_pairs() -> list[Pair] | None:
    return None


async def returns_any() -> Any:
    return None


async def returns_unannotated():  # type: ignore[no-untyped-def]
    return None


@pytest.mark.parametrize(
    ("fn", "value", "text"),
    [
        (returns_int, 3, "3"),
        (returns_pairs, [Pair(left=1, right="a")], '[{"left":1,"right":"a"}]'),
        (returns_pairs, [{"left": 1, "right": "a"}], '[{"left":1,"right":"a"}]'),  # decodes back
        (returns_pairs, None, "null"),
        (returns_any, {1, 2}, "[1,2]"),  # no annotation to check against
        (returns_unannotated, "text", '"text"'),
    ],
)
def test_encode_result_keeps_what_decodes_back(fn: Any, value: Any, text: str) -> None:
    signature = Signature(fn)
    assert signature.encode_result(value, "result of workflow 'w'") == text
    signature.decode_result(text)  # what was accepted reads back


@pytest.mark.parametrize(
    ("fn", "value", "message"),
    [
        (
            returns_int,
            "many",
            "result of workflow 'w': value of type str does not match the return annotation int "
            "(Input should be a valid integer, unable to parse string as an integer)",
        ),
        (
            returns_pairs,
            [{"left": "x", "right": 1}],
            "result of workflow 'w': value of type list does not match the return annotation "
            "list[Pair] | None (0.left: Input should be a valid integer, unable to parse string "
            "as an integer; and 1 more)",
        ),
    ],
)
def test_encode_result_names_the_workflow_and_the_annotation(
    fn: Any, value: Any, message: str
) -> None:
    with pytest.raises(SerializationError) as info:
        Signature(fn).encode_result(value, "result of workflow 'w'")
    assert str(info.value) == message
