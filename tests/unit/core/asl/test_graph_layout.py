"""Where a state machine's graph is drawn: boxes that never overlap, groups that hold their
lanes and states, layers that go down, edges that start and end on their boxes, labels on
their lines, and the same numbers every time."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from legato.core.asl.graph import graph
from legato.core.asl.graph_layers import Box
from legato.core.asl.graph_layout import MAX_LINES, WRAP, Layout, layout, wrap
from legato.core.asl.validate import validate
from tests.unit.core.asl.machines_drawn import MACHINES, ORDER, POLL

Point = tuple[float, float]


def _laid(definition: dict[str, Any]) -> Layout:
    assert validate(definition) == []
    return layout(graph(definition))


def _overlap(a: Box, b: Box) -> bool:
    return not (a.x + a.width <= b.x or b.x + b.width <= a.x
                or a.y + a.height <= b.y or b.y + b.height <= a.y)  # fmt: skip


def _inside(inner: Box, outer: Box) -> bool:
    return (outer.x <= inner.x and outer.y <= inner.y
            and inner.x + inner.width <= outer.x + outer.width
            and inner.y + inner.height <= outer.y + outer.height)  # fmt: skip


def _on_border(p: Point, box: Box) -> bool:
    x, y = p
    within = (
        box.x - 0.5 <= x <= box.x + box.width + 0.5 and box.y - 0.5 <= y <= box.y + box.height + 0.5
    )
    edge = min(abs(x - box.x), abs(x - box.x - box.width), abs(y - box.y),
               abs(y - box.y - box.height))  # fmt: skip
    return within and edge < 0.5


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_boxes_of_a_scope_never_overlap_and_groups_hold_theirs(name: str) -> None:
    laid = _laid(MACHINES[name])
    placed = list(laid.states.values())
    for a, b in itertools.combinations(placed, 2):
        if (a.node.parent, a.node.branch) == (b.node.parent, b.node.branch):
            assert not _overlap(a.box, b.box), (a.node.id, b.node.id)
    lanes = {(lane.parent, lane.branch): lane.box for lane in laid.lanes}
    for p in placed:
        assert _inside(p.box, Box(0, 0, laid.width, laid.height))
        if p.node.parent is not None:
            lane = lanes[(p.node.parent, p.node.branch or 0)]
            assert _inside(p.box, lane) and _inside(lane, laid.states[p.node.parent].box)
    for (pa, _), (pb, _) in itertools.combinations(lanes.items(), 2):
        if pa[0] == pb[0]:
            assert not _overlap(lanes[pa], lanes[pb])


def test_an_acyclic_machine_goes_down_and_a_loop_comes_back_up() -> None:
    order = _laid(ORDER)
    for e in order.edges:
        if e.source is not None and e.target is not None:
            assert order.states[e.source].box.y < order.states[e.target].box.y, e
    poll = _laid(POLL)
    back = next(e for e in poll.edges if (e.source, e.target) == ("Done yet?", "Wait a bit"))
    assert poll.states["Wait a bit"].box.y < poll.states["Done yet?"].box.y
    assert back.label == "Default" and back.points[0][1] > back.points[-1][1]


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_edges_run_from_border_to_border_with_their_label_on_a_bend(name: str) -> None:
    laid = _laid(MACHINES[name])
    for e in laid.edges:
        if e.source == e.target:  # a loop: on the state's right side
            box = laid.states[str(e.source)].box
            assert e.points[0][0] == e.points[-1][0] == box.x + box.width
            continue
        if e.source is not None:
            assert _on_border(e.points[0], laid.states[e.source].box), e
        if e.target is not None:
            assert _on_border(e.points[-1], laid.states[e.target].box), e
        if e.label is not None:
            assert e.label_at in e.points[1:-1]


def test_a_catch_back_to_its_own_state_is_a_labelled_loop() -> None:
    loop = next(e for e in _laid(POLL).edges if e.source == e.target == "Get status")
    assert loop.kinds == ("catch",) and loop.label == "Busy" and len(loop.points) == 4
    assert loop.label_at is not None


def test_the_start_and_end_markers() -> None:
    laid = _laid(ORDER)
    assert [m.kind for m in laid.markers] == ["start", "end"]
    start, end = laid.markers
    assert start.center[1] < laid.states["Validate order"].box.y
    assert all(end.center[1] > p.box.y for p in laid.states.values())
    ends = {e.source for e in laid.edges if e.target is None}
    assert ends == {"Done", "Declined"}  # Fulfil's inner end states end their branch only
    for e in laid.edges:  # lines meet the markers' circles
        for marker, point in ((start, e.points[0]), (end, e.points[-1])):
            if (e.source is None and marker is start) or (e.target is None and marker is end):
                distance = math.dist(marker.center, point)
                assert abs(distance - marker.radius) < 0.01


def test_the_json_shape() -> None:
    shape = _laid(ORDER).as_json()
    assert set(shape) == {"width", "height", "states", "lanes", "edges", "markers"}
    assert set(shape["states"]["Fulfil"]) == {"x", "y", "width", "height", "lines", "group"}
    assert shape["states"]["Fulfil"]["group"] and not shape["states"]["Pack"]["group"]
    json.dumps(shape)


def test_the_same_layout_in_every_process() -> None:
    script = (
        "import json; from legato.core.asl.graph import graph; "
        "from legato.core.asl.graph_layout import layout; "
        "from tests.unit.core.asl.machines_drawn import ORDER; "
        "print(json.dumps(layout(graph(ORDER)).as_json()))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        ran = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True, timeout=60)  # fmt: skip
        outputs.add(ran.stdout)
    assert outputs == {json.dumps(_laid(ORDER).as_json()) + "\n"}


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("Charge", ("Charge",)),
        ("Submit the job to the very slow external batch processing system",
         ("Submit the job to the", "very slow external batch", "processing system")),
        ("send_the_confirmation_email_to_customer",
         ("send_the_confirmation_", "email_to_customer")),
        ("x" * 60, ("x" * 24, "x" * 24, "x" * 12)),
        ("word " * 30, ("word word word word word", "word word word word word",
                        "word word word word wor…")),
    ],
)  # fmt: skip
def test_names_wrap_into_at_most_three_lines(name: str, lines: tuple[str, ...]) -> None:
    assert wrap(name) == lines
    assert len(lines) <= MAX_LINES and all(len(line) <= WRAP for line in lines)


def test_a_malformed_definition_still_lays_out_what_it_has() -> None:
    laid = layout(graph({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Gone"},
                                                    "B": "nonsense"}}))  # fmt: skip
    assert list(laid.states) == ["A"] and laid.width > 0
    assert layout(graph({})).states == {}


@st.composite
def machines(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    """Valid machines: states that go to any state of their scope (loops included) through
    Next, Choice rules, Default and Catchers, with Parallel and Map groups inside."""
    prefix = draw(st.text("abc", min_size=1, max_size=2)) + f"{depth}_"
    count = draw(st.integers(1, 6))
    names = [f"{prefix}{i}" for i in range(count)]
    states: dict[str, Any] = {}
    for i, name in enumerate(names):
        later = names[i + 1 :]
        anywhere = st.sampled_from(names)
        kind = draw(st.sampled_from(["Pass", "Choice", "Parallel"] if depth < 2 else ["Pass"]))
        if i == count - 1:
            states[name] = {"Type": "Succeed"}
        elif kind == "Choice":
            rules = [{"Variable": "$.x", "NumericEquals": n, "Next": draw(anywhere)}
                     for n in range(draw(st.integers(1, 3)))]  # fmt: skip
            states[name] = {"Type": "Choice", "Choices": rules, "Default": later[0]}
        elif kind == "Parallel":
            branches = [draw(machines(depth + 1)) for _ in range(draw(st.integers(1, 3)))]
            states[name] = {
                "Type": "Parallel",
                "Branches": branches,
                "Next": later[0],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": draw(anywhere)}],
            }
        else:
            states[name] = {"Type": "Pass", "Next": later[0]}
    return {"StartAt": names[0], "States": states}


def _unique(machine: dict[str, Any], seen: set[str] | None = None) -> bool:
    seen = set() if seen is None else seen
    for name, state in machine["States"].items():
        if name in seen:
            return False
        seen.add(name)
        for branch in state.get("Branches", []):
            if not _unique(branch, seen):
                return False
    return True


@settings(max_examples=60, deadline=None)
@given(machines())
def test_any_machine_lays_out_without_overlaps(machine: dict[str, Any]) -> None:
    assume(_unique(machine) and validate(machine) == [])
    laid = layout(graph(machine))
    placed = list(laid.states.values())
    for a, b in itertools.combinations(placed, 2):
        if (a.node.parent, a.node.branch) == (b.node.parent, b.node.branch):
            assert not _overlap(a.box, b.box)
        if a.node.parent == b.node.id:
            assert _inside(a.box, b.box)
    for e in laid.edges:
        assert len(e.points) >= 2 and (e.label is None or e.label_at is not None)
