"""A state machine as a drawing: ``GET /v1/definitions/{name}/graph`` (a stored version) and
``GET /v1/executions/{id}/graph`` (the version an execution runs, each state coloured by what
happened to it: ``core/asl/state_progress.py``).

``format=json`` (the default) gives the states, the edges and where to draw them (pixels,
top-left origin: each state's box, each line's points and label position, the lanes of
Parallel and Map states, the start and end markers); ``svg`` the drawing itself
(``core/asl/graph_svg.py`` says what its classes mean); a definition also comes as Graphviz
``dot`` or ``mermaid`` text. A layout depends only on the definition, so the last ones made
are kept (a version never changes): polling an execution's graph costs its history's read.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from legato.api.deps import LegatoApp
from legato.api.execution_json import Kinds
from legato.api.path_ids import EXECUTION_ID
from legato.api.problems import Problem, problem_responses
from legato.client import App
from legato.core import codec
from legato.core.asl.graph import Graph as StateGraph
from legato.core.asl.graph import graph
from legato.core.asl.graph_layout import Layout, layout
from legato.core.asl.graph_svg import to_svg
from legato.core.asl.graph_text import to_dot, to_mermaid
from legato.core.asl.state_progress import StateProgress, progress, statuses, taken
from legato.core.definitions import canonical_json
from legato.errors import DefinitionNotFound

router = APIRouter(tags=["graphs"])

SVG = "image/svg+xml"
DOT = "text/vnd.graphviz; charset=utf-8"
MERMAID = "text/plain; charset=utf-8"
_TEXT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {},
            SVG: {"schema": {"type": "string"}},
            "text/vnd.graphviz": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
        "description": "the graph as JSON (with its layout), SVG, Graphviz dot or Mermaid",
    }
}


class GraphState(BaseModel):
    id: str
    name: str
    type: str
    parent: str | None
    branch: int | None
    start: bool
    end: bool
    x: float
    y: float
    width: float
    height: float
    lines: list[str]
    group: bool
    progress: dict[str, Any] | None = None  # an execution's: status, entered, retries, error


class GraphEdge(BaseModel):
    source: str
    target: str
    kind: str
    label: str | None
    taken: bool | None = None  # an execution's: it went this way


class Route(BaseModel):
    source: str | None
    target: str | None
    kinds: list[str]
    label: str | None
    points: list[list[float]]
    label_at: list[float] | None


class GraphLane(BaseModel):
    parent: str
    branch: int
    title: str
    x: float
    y: float
    width: float
    height: float


class GraphMarker(BaseModel):
    kind: str
    x: float
    y: float
    r: float


class Drawing(BaseModel):
    width: float
    height: float
    routes: list[Route]
    lanes: list[GraphLane]
    markers: list[GraphMarker]


class Graph(BaseModel):
    name: str
    version: str
    start: str | None
    states: list[GraphState]
    edges: list[GraphEdge]
    layout: Drawing


class ExecutionGraph(Graph):
    execution_id: str
    status: str


@lru_cache(maxsize=256)
def _drawn(canonical: str) -> tuple[StateGraph, Layout]:
    g = graph(codec.loads(canonical))
    return g, layout(g)


async def drawn(definition: dict[str, Any]) -> tuple[StateGraph, Layout]:
    """Laying out a large machine takes a while (~0.5 s for 200 states): not on the loop."""
    return await asyncio.to_thread(_drawn, canonical_json(definition))


def graph_json(
    g: StateGraph,
    laid: Layout,
    found: dict[str, StateProgress] | None = None,
    went: set[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    shape = g.as_json()
    placed = laid.as_json()
    for state in shape["states"]:
        state.update(placed["states"][state["id"]])
        if found is not None:
            state["progress"] = found[state["id"]].as_json()
    if went is not None:
        for edge in shape["edges"]:
            edge["taken"] = (edge["source"], edge["target"]) in went
    drawing = {"width": placed["width"], "height": placed["height"], "routes": placed["edges"],
               "lanes": placed["lanes"], "markers": placed["markers"]}  # fmt: skip
    return {**shape, "layout": drawing}


@router.get(
    "/v1/definitions/{name}/graph",
    response_model=Graph,
    responses={**_TEXT_RESPONSES, **problem_responses(404)},
    summary="A definition's graph: JSON with its layout, SVG, Graphviz dot or Mermaid",
)
async def definition_graph(
    name: str,
    app: LegatoApp,
    version: str | None = None,
    format: Annotated[str, Query(pattern="^(json|svg|dot|mermaid)$")] = "json",
) -> Any:
    """A stored definition's states (nested ones with their ``parent`` and ``branch``), the
    edges between them (Choice and Catch edges with a ``label``) and where to draw them."""
    stored = await app.get_definition(name, version)
    definition = codec.loads(stored.definition)
    g, laid = await drawn(definition)
    title = f"{stored.name} (version {stored.version})"
    if format == "svg":
        return Response(to_svg(laid, title=title), media_type=SVG)
    if format == "dot":
        return Response(to_dot(g, title=title), media_type=DOT)
    if format == "mermaid":
        return Response(to_mermaid(g, title=title), media_type=MERMAID)
    return Graph(name=stored.name, version=stored.version, **graph_json(g, laid))


@router.get(
    f"/v1/executions/{EXECUTION_ID}/graph",
    response_model=ExecutionGraph,
    responses={**_TEXT_RESPONSES, **problem_responses(404, 409)},
    summary="A state machine execution's graph, each state with its progress",
)
async def execution_graph(
    execution_id: str,
    app: LegatoApp,
    format: Annotated[str, Query(pattern="^(json|svg)$")] = "json",
) -> Any:
    """The graph of the definition version the execution runs; each state's ``progress``:
    ``status`` (not_reached, running, succeeded, failed, caught, retried), how many times it
    was ``entered``, its ``retries`` and the last ``error`` an attempt of it failed with. 409
    for a code workflow's execution."""
    handle = app.get_handle(execution_id)
    row = await handle.status_row()
    definition = await _definition_of(app, row.workflow, row.version, execution_id)
    history = await handle.history()
    found = await asyncio.to_thread(progress, definition, history)  # a long history: ~4 µs/event
    g, laid = await drawn(definition)
    if format == "svg":
        title = f"{execution_id}: {row.workflow} (version {row.version}), {row.status.value}"
        notes = {name: _note(p) for name, p in found.items() if _note(p)}
        svg = to_svg(laid, statuses(found), title, notes, taken(history))
        return Response(svg, media_type=SVG)
    return ExecutionGraph(
        execution_id=row.id, status=row.status.value, name=row.workflow, version=row.version,
        **graph_json(g, laid, found, taken(history)),
    )  # fmt: skip


async def _definition_of(app: App, workflow: str, version: str, execution_id: str) -> Any:
    """The definition an execution runs: the app's registered machine, else the stored one."""
    wf = app.registry.lookup_workflow(workflow, version)
    if wf is not None and wf.kind == "state_machine" and wf.definition is not None:
        return wf.definition
    if wf is None and await Kinds(app).of(workflow, version) != "code":
        try:
            return codec.loads((await app.get_definition(workflow, version)).definition)
        except DefinitionNotFound:
            pass
    raise Problem(
        409,
        "not-a-state-machine",
        f"execution {execution_id!r} runs code workflow {workflow!r} (version {version}): "
        "only a state machine has a graph; its history is at /history",
    )


def _note(p: StateProgress) -> str:
    parts = []
    if p.entered > 1:
        parts.append(f"entered {p.entered} times")
    if p.retries:
        parts.append(f"{p.retries} {'retry' if p.retries == 1 else 'retries'}")
    if p.error:
        parts.append(f"last error: {p.error}")
    return ", ".join(parts)
