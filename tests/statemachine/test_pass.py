"""Pass states end to end (ASL spec, "Pass State"; developer guide, "Pass workflow state")."""

from __future__ import annotations

from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single

COORDS = {"x-datum": 0.381018, "y-datum": 622.2269926397355}


@pytest.mark.parametrize(
    ("state", "given", "expected"),
    [
        # ASL spec, "Pass State": the example with Result and ResultPath "$.coords".
        (
            {"Type": "Pass", "Result": COORDS, "ResultPath": "$.coords"},
            {"georefOf": "Home"},
            {"georefOf": "Home", "coords": COORDS},
        ),
        # ASL spec, "Pass State": without Result, "the Pass State passes its input to its
        # output".
        ({"Type": "Pass"}, {"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}),
        # ASL spec, "Pass State": Result is the state's result; ResultPath defaults to "$",
        # so it replaces the input ("ResultPath").
        ({"Type": "Pass", "Result": "done"}, {"a": 1}, "done"),
        # ASL spec, "ResultPath": null discards the result and passes the input through.
        ({"Type": "Pass", "Result": {"x": 1}, "ResultPath": None}, {"a": 1}, {"a": 1}),
        # ASL spec, "InputPath": with no Result the effective input becomes the result.
        ({"Type": "Pass", "InputPath": "$.inner"}, {"inner": {"k": "v"}, "o": 1}, {"k": "v"}),
        # ASL spec, "OutputPath": selects the part of the output passed on.
        (
            {"Type": "Pass", "Result": {"n": 7}, "ResultPath": "$.r", "OutputPath": "$.r"},
            {"a": 1},
            {"n": 7},
        ),
        # ASL spec, "OutputPath": null gives an empty object.
        ({"Type": "Pass", "OutputPath": None}, {"a": 1}, {}),
        # Developer guide, "InputPath, Parameters and ResultSelector", Parameters example.
        (
            {
                "Type": "Pass",
                "Parameters": {
                    "comment": "Selecting what I care about.",
                    "MyDetails": {
                        "size.$": "$.product.details.size",
                        "exists.$": "$.product.availability",
                        "StaticValue": "foo",
                    },
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
            {
                "comment": "Selecting what I care about.",
                "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"},
            },
        ),
        # Developer guide, "Pass workflow state": Result with an array value.
        ({"Type": "Pass", "Result": [1, 2, 3]}, None, [1, 2, 3]),
    ],
)
async def test_pass_table(state: dict[str, Any], given: Any, expected: Any) -> None:
    r = await run_state_machine(single(state), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected


async def test_passes_flow_through_next() -> None:
    # ASL spec, "Transitions": each state's output is the input of the state named by Next.
    definition = chain(
        ("A", {"Type": "Pass", "Result": 1, "ResultPath": "$.a"}),
        ("B", {"Type": "Pass", "Result": 2, "ResultPath": "$.b"}),
        ("C", {"Type": "Pass", "InputPath": "$.b"}),
    )
    r = await run_state_machine(definition, {})
    assert r.output == 2
    assert r.states_entered() == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("state", "given", "expected"),
    [
        # Developer guide, "Pass workflow state" (JSONata): without Output the input passes
        # through.
        ({"Type": "Pass"}, {"a": 1}, {"a": 1}),
        # Developer guide, "Pass workflow state" (JSONata): Output gives the state's output.
        ({"Type": "Pass", "Output": {"sum": "{% $states.input.x + 1 %}"}}, {"x": 2}, {"sum": 3}),
        # Developer guide, "Transforming data with JSONata": Output may be one expression.
        ({"Type": "Pass", "Output": "{% $states.input.items[1] %}"}, {"items": [5, 6]}, 6),
    ],
)
async def test_pass_jsonata(state: dict[str, Any], given: Any, expected: Any) -> None:
    r = await run_state_machine(single(state, QueryLanguage="JSONata"), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected
