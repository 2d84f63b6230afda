"""grandalf's Sugiyama layout of one scope of a graph: the one place that calls grandalf
(``graph_layout`` lays out scope by scope and nests them). Boxes and points in pixels; a
vertex's size in, its center and each edge's route out. Pure: same input, same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grandalf.graphs import Edge as GEdge
from grandalf.graphs import Graph as GGraph
from grandalf.graphs import Vertex
from grandalf.layouts import SugiyamaLayout

Point = tuple[float, float]
X_GAP, Y_GAP = 36.0, 54.0  # between states of a layer; between layers (edge labels go there)


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> Point:
        return (self.x + self.width / 2, self.y + self.height / 2)

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x + dx, self.y + dy, self.width, self.height)


@dataclass(slots=True)
class Item:
    """A node of one scope's layered layout: a state, a group or a marker."""

    key: str
    width: float
    height: float
    xy: Point = (0.0, 0.0)  # its center, set by the layout

    # grandalf reads a vertex's size and writes its center through ``view``
    @property
    def w(self) -> float:
        return self.width

    @property
    def h(self) -> float:
        return self.height


class _Route:
    points: list[Point]

    def __init__(self) -> None:
        self.points = []

    def setpath(self, pts: list[Point]) -> None:
        self.points = list(pts)


@dataclass(slots=True)
class Routed:
    points: list[Point]  # center of the source, the bends, center of the target
    label: Box | None  # where the edge's words go (a bend of the route: its center)


def layered(
    items: dict[str, Item],
    links: Sequence[tuple[str, str]],
    roots: Sequence[str],
    labels: dict[tuple[str, str], tuple[float, float]],
) -> dict[tuple[str, str], Routed]:
    """grandalf's Sugiyama layout of one scope, component by component side by side: sets each
    item's center; returns each link's route. A labelled link goes through a node of its own,
    the size of its words (``labels``, as dagre does): the layering gives them their own place."""
    nodes = dict(items)
    hops: dict[tuple[str, str], list[tuple[str, str]]] = {}
    loops: list[tuple[str, str]] = []
    for n, (source, target) in enumerate(links):
        if source == target:
            loops.append((source, target))
        elif (source, target) in labels:
            key = f"\x00label{n}"
            nodes[key] = Item(key, *labels[(source, target)])
            hops[(source, target)] = [(source, key), (key, target)]
        else:
            hops[(source, target)] = [(source, target)]
    vertices = {key: Vertex(key) for key in nodes}
    for key, v in vertices.items():
        v.view = nodes[key]
    gedges: dict[tuple[str, str], Any] = {}
    for pieces in hops.values():
        for a, b in pieces:
            e = GEdge(vertices[a], vertices[b])
            e.view = _Route()
            gedges[(a, b)] = e
    graph = GGraph(list(vertices.values()), list(gedges.values()))
    offset = 0.0
    for component in graph.C:
        sug = SugiyamaLayout(component)
        sug.xspace, sug.yspace = X_GAP, Y_GAP
        mine = list(component.sV)
        chosen = [v for v in mine if v.data in roots] or [v for v in mine if not v.e_in()]
        sug.init_all(roots=chosen or mine[:1])
        sug.draw(3)
        left = min(v.view.xy[0] - v.view.w / 2 for v in mine)
        for v in mine:
            v.view.xy = (v.view.xy[0] - left + offset, v.view.xy[1])
        for e in component.sE:
            e.view.points = [(x - left + offset, y) for x, y in e.view.points]
        offset = max(v.view.xy[0] + v.view.w / 2 for v in mine) + X_GAP
    routes: dict[tuple[str, str], Routed] = {}
    for pair, pieces in hops.items():
        points = list(gedges[pieces[0]].view.points)
        for piece in pieces[1:]:
            points += list(gedges[piece].view.points)[1:]
        label = None
        if len(pieces) > 1:
            item = nodes[pieces[0][1]]
            label = Box(item.xy[0] - item.width / 2, item.xy[1] - item.height / 2,
                        item.width, item.height)  # fmt: skip
        routes[pair] = Routed(points, label)
    for key, _ in loops:  # a state that goes back to itself: a loop on its right side
        item = items[key]
        (x, y), w, h = item.xy, item.width / 2, item.height / 4
        bends = [(x + w, y - h), (x + w + 28, y - h), (x + w + 28, y + h), (x + w, y + h)]
        label = None
        if (key, key) in labels:
            width, height = labels[(key, key)]
            label = Box(x + w + 32, y - height / 2, width, height)
        routes[(key, key)] = Routed(bends, label)
    return routes
