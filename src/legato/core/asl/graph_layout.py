"""Where to draw a state machine's graph (``graph.py``): a layered, top-to-bottom layout.

Each scope (the machine, each Parallel branch, a Map's item processor) is laid out on its own
by grandalf's Sugiyama layout (layers, crossing reduction, Brandes-Köpf placement; a loop's
back edge is reversed for the layering and drawn as it is). A Parallel or Map state is a group:
its branches are laid out first, side by side in lanes, and the group is one large node of the
scope that holds it. The machine's scope also gets a start marker above its StartAt and an end
marker below its last states. Edges never cross a scope's border (ASL transitions stay in their
scope), so each scope's routes are its own.

Text is measured by an estimate of a sans-serif font's average advance (``CHAR_W``): the
layout must not depend on fonts installed where it runs. Pure and deterministic: the same
graph gives the same numbers, in pixels, top-left origin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from legato.core.asl.graph import Edge, Graph, Node
from legato.core.asl.graph_layers import Box, Item, Point, Routed, layered

CHAR_W = 7.4  # average advance of a 13px sans-serif character, bold included
LINE_H = 16.0
WRAP = 24  # characters per line of a state's name
MAX_LINES = 3
STATE_H = 34.0  # a one-line state: its name and, below it, its type
MIN_W, MAX_W = 120.0, 240.0
HEADER = 38.0  # a group's title
PAD = 14.0  # inside a group, and around a lane
LANE_GAP = 16.0
LANE_TITLE = 14.0  # above a lane's states
LABEL_H = 18.0
LABEL_CHAR_W = CHAR_W * 0.85  # edge labels are 11px
LABEL_MAX = 36  # characters of an edge label drawn (the whole label is its tooltip)
MARKER_R = 9.0
GROUPS = ("Parallel", "Map")


@dataclass(frozen=True, slots=True)
class PlacedState:
    node: Node
    box: Box
    lines: tuple[str, ...]  # the name, wrapped
    group: bool  # a Parallel or Map: drawn as a frame around its lanes


@dataclass(frozen=True, slots=True)
class Lane:
    parent: str
    branch: int
    title: str
    box: Box


@dataclass(frozen=True, slots=True)
class PlacedEdge:
    """``source``/``target`` None: the start or end marker. ``edges`` are the graph's edges
    this one line draws (a Choice rule and the Default to one state are one line)."""

    source: str | None
    target: str | None
    kinds: tuple[str, ...]
    label: str | None
    points: tuple[Point, ...]
    label_at: Point | None


@dataclass(frozen=True, slots=True)
class Marker:
    kind: str  # start, end
    center: Point
    radius: float


@dataclass(slots=True)
class Layout:
    width: float = 0.0
    height: float = 0.0
    states: dict[str, PlacedState] = field(default_factory=dict)
    lanes: list[Lane] = field(default_factory=list)
    edges: list[PlacedEdge] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "width": _r(self.width),
            "height": _r(self.height),
            "states": {
                name: {**_box(p.box), "lines": list(p.lines), "group": p.group}
                for name, p in self.states.items()
            },
            "lanes": [
                {
                    "parent": lane.parent,
                    "branch": lane.branch,
                    "title": lane.title,
                    **_box(lane.box),
                }
                for lane in self.lanes
            ],  # fmt: skip
            "edges": [
                {
                    "source": e.source,
                    "target": e.target,
                    "kinds": list(e.kinds),
                    "label": e.label,
                    "points": [[_r(x), _r(y)] for x, y in e.points],
                    "label_at": None if e.label_at is None else [_r(c) for c in e.label_at],
                }
                for e in self.edges
            ],  # fmt: skip
            "markers": [
                {"kind": m.kind, "x": _r(m.center[0]), "y": _r(m.center[1]), "r": m.radius}
                for m in self.markers
            ],
        }


def layout(g: Graph) -> Layout:
    """The whole machine's layout (``g`` from ``graph.graph``)."""
    children: dict[tuple[str | None, int | None], list[Node]] = {}
    for node in g.states:
        children.setdefault((node.parent, node.branch), []).append(node)
    scoped = _Scopes(g, children)
    top = scoped.scope(None, None, markers=True)
    out = Layout(math.ceil(top.width), math.ceil(top.height))
    top.emit(out, 0.0, 0.0)
    return out


def wrap(name: str) -> tuple[str, ...]:
    """A state's name in lines of at most ``WRAP`` characters, broken at spaces, then at
    ``-``/``_``/``.``, then anywhere; past ``MAX_LINES`` the last line ends with an ellipsis."""
    lines: list[str] = []
    rest = name.strip() or name
    while rest:
        if len(rest) <= WRAP:
            lines.append(rest)
            break
        cut = max(rest.rfind(" ", 0, WRAP + 1), *(rest.rfind(c, 0, WRAP) for c in "-_."))
        cut = cut if cut > WRAP // 3 else WRAP
        keep = rest[: cut + 1] if rest[cut : cut + 1] in ("-", "_", ".") else rest[:cut]
        lines.append(keep.rstrip())
        rest = rest[len(keep) :].lstrip()
    if len(lines) > MAX_LINES:
        lines = lines[: MAX_LINES - 1] + [lines[MAX_LINES - 1][: WRAP - 1] + "…"]
    return tuple(lines)


def text_width(text: str, char_w: float = CHAR_W) -> float:
    return len(text) * char_w


# --- one scope ----------------------------------------------------------------------------------
@dataclass(slots=True)
class _Placed:
    """A scope laid out in its own coordinates (top-left 0, 0)."""

    width: float
    height: float
    states: list[PlacedState]
    lanes: list[Lane]
    edges: list[PlacedEdge]
    markers: list[Marker]
    inner: list[tuple[_Placed, float, float]]  # nested scopes and where they go

    def emit(self, out: Layout, dx: float, dy: float) -> None:
        for p in self.states:
            out.states[p.node.id] = PlacedState(p.node, p.box.moved(dx, dy), p.lines, p.group)
        for lane in self.lanes:
            out.lanes.append(Lane(lane.parent, lane.branch, lane.title, lane.box.moved(dx, dy)))
        for e in self.edges:
            points = tuple((x + dx, y + dy) for x, y in e.points)
            at = None if e.label_at is None else (e.label_at[0] + dx, e.label_at[1] + dy)
            out.edges.append(PlacedEdge(e.source, e.target, e.kinds, e.label, points, at))
        for m in self.markers:
            out.markers.append(Marker(m.kind, (m.center[0] + dx, m.center[1] + dy), m.radius))
        for scope, x, y in self.inner:
            scope.emit(out, dx + x, dy + y)


_START, _END = "\x00start", "\x00end"  # marker keys: no state name has a NUL


class _Scopes:
    def __init__(self, g: Graph, children: dict[tuple[str | None, int | None], list[Node]]):
        self.g = g
        self.children = children
        self.branches: dict[str, list[int]] = {}
        for parent, branch in children:
            if parent is not None and branch is not None:
                self.branches.setdefault(parent, []).append(branch)

    def scope(self, parent: str | None, branch: int | None, markers: bool = False) -> _Placed:
        members = self.children.get((parent, branch), [])
        ids = {n.id for n in members}
        items: dict[str, Item] = {}
        groups: dict[str, list[tuple[_Placed, int]]] = {}
        for node in members:
            inner = sorted(self.branches.get(node.id, []))
            if node.type in GROUPS and inner:
                lanes = [(self.scope(node.id, b), b) for b in inner]
                groups[node.id] = lanes
                width = max(
                    sum(s.width for s, _ in lanes) + LANE_GAP * (len(lanes) - 1) + 2 * PAD,
                    text_width(node.name) + 90,
                )
                height = HEADER + LANE_TITLE + max(s.height for s, _ in lanes) + PAD
                items[node.id] = Item(node.id, width, height)
            else:
                lines = wrap(node.name)
                typed = text_width(f"{node.type} · not reached", LABEL_CHAR_W)
                width = max(MIN_W, min(MAX_W, max(typed, *map(text_width, lines)) + 28))
                if node.type == "Choice":  # its pointed ends hold no text
                    width += 24
                items[node.id] = Item(node.id, width, STATE_H + LINE_H * (len(lines) - 1) + 8)
        pairs: dict[tuple[str, str], list[Edge]] = {}
        for e in self.g.edges:
            if e.source in ids and e.target in ids and e.kind not in ("branch", "iterator"):
                pairs.setdefault((e.source, e.target), []).append(e)
        links = list(pairs)
        if markers and members:
            items[_START] = Item(_START, 2 * MARKER_R, 2 * MARKER_R)
            start = self.g.start if self.g.start in ids else members[0].id
            links.insert(0, (_START, start))
            ends = [n.id for n in members if n.end]
            if ends:
                items[_END] = Item(_END, 2 * MARKER_R, 2 * MARKER_R)
                links += [(end, _END) for end in ends]
        labels: dict[tuple[str, str], str] = {}
        for pair, edges in pairs.items():
            words = [e.label for e in edges if e.label]
            if words:
                labels[pair] = " · ".join(dict.fromkeys(words))
        roots = [_START] if markers else [n.id for n in members if n.start]
        sizes = {pair: (text_width(label_text(words), LABEL_CHAR_W) + 10, LABEL_H)
                 for pair, words in labels.items()}  # fmt: skip
        routes = layered(items, links, roots, sizes)
        return self._place(members, items, groups, pairs, links, routes, labels)

    def _place(
        self,
        members: Sequence[Node],
        items: dict[str, Item],
        groups: dict[str, list[tuple[_Placed, int]]],
        pairs: dict[tuple[str, str], list[Edge]],
        links: Sequence[tuple[str, str]],
        routes: dict[tuple[str, str], Routed],
        labels: dict[tuple[str, str], str],
    ) -> _Placed:
        boxes = {k: Box(i.xy[0] - i.width / 2, i.xy[1] - i.height / 2, i.width, i.height)
                 for k, i in items.items()}  # fmt: skip
        bends = [p for r in routes.values() for p in r.points]
        xs = [b.x for b in boxes.values()] + [p[0] for p in bends]
        ys = [b.y for b in boxes.values()] + [p[1] for p in bends]
        x1 = [b.x + b.width for b in boxes.values()] + [p[0] for p in bends]
        y1 = [b.y + b.height for b in boxes.values()] + [p[1] for p in bends]
        for r in routes.values():
            if r.label is not None:
                xs.append(r.label.x)
                x1.append(r.label.x + r.label.width)
        dx, dy = PAD - min(xs, default=0.0), PAD - min(ys, default=0.0)
        width = max(x1, default=0.0) + dx + PAD
        height = max(y1, default=0.0) + dy + PAD
        boxes = {k: b.moved(dx, dy) for k, b in boxes.items()}
        placed = _Placed(width, height, [], [], [], [], [])
        for node in members:
            box = boxes[node.id]
            lanes = groups.get(node.id)
            placed.states.append(PlacedState(node, box, wrap(node.name), lanes is not None))
            if lanes:
                self._lanes(placed, node, box, lanes)
        for key, kind in ((_START, "start"), (_END, "end")):
            if key in boxes:
                placed.markers.append(Marker(kind, boxes[key].center, MARKER_R))
        for source, target in links:
            routed = routes.get((source, target), Routed([], None))
            route = [(x + dx, y + dy) for x, y in routed.points]
            points = _clip(route, boxes[source], boxes[target])
            if len(points) >= 2 and source == _START:  # markers are circles, not boxes
                points[0] = _on_circle(boxes[source].center, points[1])
            if len(points) >= 2 and target == _END:
                points[-1] = _on_circle(boxes[target].center, points[-2])
            edges = pairs.get((source, target), [])
            label = labels.get((source, target))
            at = None if routed.label is None else routed.label.moved(dx, dy).center
            kinds = tuple(dict.fromkeys(e.kind for e in edges)) or (
                ("start",) if source == _START else ("end",)
            )
            placed.edges.append(PlacedEdge(
                None if source == _START else source, None if target == _END else target,
                kinds, label, tuple(points), at if label else None,
            ))  # fmt: skip
        return placed

    def _lanes(
        self, placed: _Placed, node: Node, box: Box, lanes: list[tuple[_Placed, int]]
    ) -> None:
        used = sum(s.width for s, _ in lanes) + LANE_GAP * (len(lanes) - 1)
        x = box.x + (box.width - used) / 2
        tall = max(s.height for s, _ in lanes)
        for scope, b in lanes:
            y = box.y + HEADER
            title = "for each item" if node.type == "Map" else f"branch {b + 1}"
            placed.lanes.append(Lane(node.id, b, title, Box(x, y, scope.width, tall + LANE_TITLE)))
            placed.inner.append((scope, x, y + LANE_TITLE))
            x += scope.width + LANE_GAP


def label_text(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def _clip(route: list[Point], source: Box, target: Box) -> list[Point]:
    """A route from center to center, its ends moved to the borders of the two boxes."""
    if len(route) < 2:
        return route
    if source is target:  # a loop is routed border to border
        return route
    first = _border(source, route[1])
    last = _border(target, route[-2])
    return [first, *route[1:-1], last]


def _border(box: Box, toward: Point) -> Point:
    """Where the line from the box's center toward a point leaves the box."""
    cx, cy = box.center
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return (cx, cy)
    sx = (box.width / 2) / abs(dx) if dx else float("inf")
    sy = (box.height / 2) / abs(dy) if dy else float("inf")
    s = min(sx, sy, 1.0)
    return (cx + dx * s, cy + dy * s)


def _on_circle(center: Point, toward: Point) -> Point:
    """Where the line from a marker's center toward a point leaves the marker."""
    dx, dy = toward[0] - center[0], toward[1] - center[1]
    length = math.hypot(dx, dy) or 1.0
    return (center[0] + dx * MARKER_R / length, center[1] + dy * MARKER_R / length)


def _r(value: float) -> float:
    return round(value, 1)


def _box(box: Box) -> dict[str, float]:
    return {"x": _r(box.x), "y": _r(box.y), "width": _r(box.width), "height": _r(box.height)}
