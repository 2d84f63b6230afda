"""A workflow's arguments as one JSON object: the schema from the annotations, and a check of
a call that names each wrong field by its path in the request."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from legato.core.arg_schema import ArgProblem, ArgSchema
from legato.core.codec import Signature


class Item(BaseModel):
    sku: str
    quantity: int


async def order(ctx: Any, customer: str, items: list[Item], rush: bool = False) -> None: ...


async def loose(ctx: Any, anything, *rest: int, **more: Any) -> None: ...  # type: ignore[no-untyped-def]


def _schema(fn: Any) -> ArgSchema:
    return ArgSchema(Signature(fn, skip_first=True), fn.__name__)


def test_the_schema_names_required_and_default_arguments() -> None:
    schema = _schema(order).json_schema()
    assert schema["required"] == ["customer", "items"]
    assert list(schema["properties"]) == ["customer", "items", "rush"]
    assert schema["properties"]["rush"]["default"] is False
    assert schema["additionalProperties"] is False
    assert "Item" in schema["$defs"]


def test_a_good_call_has_no_problem_by_position_or_by_name() -> None:
    check = _schema(order).check
    assert check(["acme", [{"sku": "a", "quantity": 1}]], {}) == []
    assert check([], {"customer": "acme", "items": [], "rush": True}) == []


def test_each_wrong_field_is_named_by_its_request_path() -> None:
    check = _schema(order).check
    assert [p.path for p in check(["acme", [{"sku": "a", "quantity": "x"}]], {})] == [
        "$.args[1][0].quantity"
    ]
    assert check([], {"items": []}) == [
        ArgProblem("$.kwargs.customer", "missing required argument 'customer'")
    ]
    assert check(["a", [], True, 4], {}) == [
        ArgProblem("$.args[3]", "takes at most 3 positional argument(s)")
    ]
    assert check(["a"], {"customer": "b", "items": []}) == [
        ArgProblem("$.kwargs.customer", "given both in args and kwargs")
    ]
    assert check(["a", []], {"colour": 1}) == [
        ArgProblem("$.kwargs.colour", "unexpected argument 'colour'")
    ]


def test_unannotated_and_variadic_parameters_take_anything() -> None:
    schema = _schema(loose)
    assert schema.check([{"x": 1}, 1, 2], {"extra": "yes"}) == []
    assert schema.check([], {}) == [
        ArgProblem("$.kwargs.anything", "missing required argument 'anything'")
    ]
