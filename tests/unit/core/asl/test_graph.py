"""A state machine's graph: states (nested ones with their parent) and every kind of edge."""

from __future__ import annotations

from typing import Any

from legato.core.asl.graph import Edge, Node, graph
from legato.core.asl.validate import validate

MACHINE: dict[str, Any] = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Fan"}],
            "Default": "Bad",
        },
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "B1",
                    "States": {
                        "B1": {"Type": "Pass", "Next": "B2"},
                        "B2": {"Type": "Succeed"},
                    },
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Bad"}],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
            "End": True,
        },
        "Bad": {"Type": "Fail", "Error": "Bad"},
    },
}


def test_states_with_parents_start_and_end() -> None:
    assert validate(MACHINE) == []
    g = graph(MACHINE)
    assert g.start == "Check"
    assert g.states == [
        Node("Check", "Check", "Choice", None, True, False),
        Node("Fan", "Fan", "Parallel", None, False, False),
        Node("A", "A", "Pass", "Fan", True, True, 0),
        Node("B1", "B1", "Pass", "Fan", True, False, 1),
        Node("B2", "B2", "Succeed", "Fan", False, True, 1),
        Node("Each", "Each", "Map", None, False, True),
        Node("Item", "Item", "Pass", "Each", True, True, 0),
        Node("Bad", "Bad", "Fail", None, False, True),
    ]


def test_every_kind_of_edge() -> None:
    assert sorted(graph(MACHINE).edges, key=lambda e: (e.source, e.target)) == [
        Edge("B1", "B2", "next"),
        Edge("Check", "Bad", "default", "Default"),
        Edge("Check", "Fan", "choice", "$.ok == true"),
        Edge("Each", "Item", "iterator"),
        Edge("Fan", "A", "branch"),
        Edge("Fan", "B1", "branch"),
        Edge("Fan", "Bad", "catch", "States.ALL"),
        Edge("Fan", "Each", "next"),
    ]


def test_the_legacy_iterator_and_the_json_shape() -> None:
    machine = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    shape = graph(machine).as_json()
    assert shape["start"] == "M"
    assert shape["states"][1] == {
        "id": "I", "name": "I", "type": "Pass", "parent": "M", "start": True, "end": True,
        "branch": 0,
    }  # fmt: skip
    assert shape["edges"] == [{"source": "M", "target": "I", "kind": "iterator", "label": None}]


def test_malformed_parts_are_left_out() -> None:
    g = graph({"StartAt": 3, "States": {"X": "no", "Y": {"Type": "Pass", "Next": 4}}})
    assert g.start is None and [n.id for n in g.states] == ["Y"] and g.edges == []
