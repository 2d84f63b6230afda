"""A state machine as a graph, for drawing it (the API's ``/graph``, the UI): every state,
nested ones included, and every transition between them.

State names are unique across a whole machine (``validate``), so a state's id is its name. A
state inside a Parallel branch or a Map's ItemProcessor (or Iterator) names that Parallel or
Map state as its ``parent`` (and which ``branch`` of it: a Map's processor is branch 0); the
Parallel or Map state has an edge to the start of each branch (``branch``) or of its processor
(``iterator``). Other edges: ``next``, a Choice rule's ``choice`` and its ``default``, a
Catcher's ``catch``; the last three carry a ``label`` (``graph_labels``). Pure: takes the
parsed definition, which should be valid; whatever is malformed is left out rather than raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from legato.core.asl.graph_labels import catch_label, choice_label


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    name: str
    type: str
    parent: str | None
    start: bool
    end: bool
    branch: int | None = None  # which of the parent's branches (a Map's processor: 0)


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    kind: str  # next, default, choice, catch, branch, iterator
    label: str | None = None  # a Choice rule's condition, a Catcher's errors, "Default"


@dataclass(slots=True)
class Graph:
    start: str | None
    states: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "states": [
                {
                    "id": n.id,
                    "name": n.name,
                    "type": n.type,
                    "parent": n.parent,
                    "start": n.start,
                    "end": n.end,
                    "branch": n.branch,
                }
                for n in self.states
            ],  # fmt: skip
            "edges": [
                {"source": e.source, "target": e.target, "kind": e.kind, "label": e.label}
                for e in self.edges
            ],
        }


_TERMINAL = ("Succeed", "Fail")


def graph(definition: dict[str, Any]) -> Graph:
    """The states and edges of ``definition``, in the order the definition lists them (a
    nested scope's states right after the state that holds it)."""
    start = definition.get("StartAt")
    g = Graph(start if isinstance(start, str) else None)
    _scope(g, definition, None, None)
    return g


def _scope(g: Graph, scope: object, parent: str | None, branch: int | None) -> str | None:
    """Adds a scope's states; returns its StartAt."""
    if not isinstance(scope, dict):
        return None
    start = scope.get("StartAt")
    states = scope.get("States")
    if not isinstance(states, dict):
        return start if isinstance(start, str) else None
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        kind = str(state.get("Type", ""))
        end = state.get("End") is True or kind in _TERMINAL
        g.states.append(Node(name, name, kind, parent, name == start, end, branch))
        _edges(g, name, state)
    return start if isinstance(start, str) else None


def _edges(g: Graph, name: str, state: dict[str, Any]) -> None:
    def add(target: object, kind: str, label: str | None = None) -> None:
        if isinstance(target, str):
            g.edges.append(Edge(name, target, kind, label))

    add(state.get("Next"), "next")
    for rule in _dicts(state.get("Choices")):
        add(rule.get("Next"), "choice", choice_label(rule))
    add(state.get("Default"), "default", "Default")
    for catcher in _dicts(state.get("Catch")):
        add(catcher.get("Next"), "catch", catch_label(catcher))
    for i, branch in enumerate(_dicts(state.get("Branches"))):
        add(_scope(g, branch, name, i), "branch")
    for key in ("ItemProcessor", "Iterator"):
        if key in state:
            add(_scope(g, state[key], name, 0), "iterator")


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
