"""JSONata values as AWS Step Functions gives them: a one-item sequence is that item, and a
Choice rule's ``Condition`` may be a literal boolean.

Sources: JSONata's processing model (docs.jsonata.org/processing, "Sequences": "A singleton
sequence ... is considered equivalent to that value itself"; "An empty sequence ... is
considered to be 'nothing'"), which Step Functions' JSONata 2.0.6 follows for its own
``$range`` (developer guide, "Transforming data with JSONata in Step Functions", "JSONata
functions provided by Step Functions"); the developer guide, "Choice workflow state",
"Choice Rules (JSONata)": a rule's ``Condition`` evaluates to true/false."""

from __future__ import annotations

from typing import Any

import pytest

from legato.core.events import StateEntered
from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # One item: the item itself, not a one-item array (as in JSONata itself).
        ("$range(1, 9, 9)", 1),
        ("$range(5, 5, 1)", 5),
        # An array constructor keeps it an array; $count sees one item.
        ("[$range(1, 9, 9)]", [1]),
        ("$count($range(1, 9, 9))", 1),
        # No item: nothing, so the constructor gives an empty array.
        ("[$range(3, 0, 1)]", []),
        ("$exists($range(3, 0, 1))", False),
        # More than one: an array (developer guide's example).
        ("$range(0, 10, 2)", [0, 2, 4, 6, 8, 10]),
    ],
)
async def test_range_is_a_sequence(expression: str, expected: Any) -> None:
    """``$range(1, 9, 9)`` gives ``1`` (a one-item sequence is a single value, as in JSONata
    itself), not ``[1]``."""
    state = {"Type": "Pass", "Output": {"v": "{% " + expression + " %}"}}
    r = await run_state_machine(single(state, QueryLanguage="JSONata"), {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"v": expected}


@pytest.mark.parametrize(("condition", "taken"), [(True, "Yes"), (False, "No")])
async def test_a_literal_boolean_condition_is_valid(condition: bool, taken: str) -> None:
    """A Choice rule whose ``Condition`` is the JSON literal ``true`` or ``false`` (not a
    ``{% %}`` string) is valid, as on AWS, and is that value: ``true`` takes the rule,
    ``false`` falls to the Default."""
    definition = chain(
        (
            "C",
            {
                "Type": "Choice",
                "Choices": [{"Condition": condition, "Next": "Yes"}],
                "Default": "No",
            },
        ),
        ("Yes", {"Type": "Pass", "Output": "yes", "End": True}),
        ("No", {"Type": "Pass", "Output": "no", "End": True}),
        QueryLanguage="JSONata",
    )
    r = await run_state_machine(definition, {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == taken.lower()
    assert [e.state for e in r.history if isinstance(e, StateEntered)] == ["C", taken]
