"""The SVG drawing: what the web UI relies on (classes, data attributes, viewBox), and what
makes the file read well alone (inline colours, escaped text, a legend with statuses)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from legato.core.asl.graph import graph
from legato.core.asl.graph_layout import layout
from legato.core.asl.graph_svg import PALETTE, to_svg
from legato.core.asl.state_progress import STATUSES
from tests.unit.core.asl.machines_drawn import ORDER

NS = "{http://www.w3.org/2000/svg}"
ODD: dict[str, Any] = {
    "StartAt": 'Say "<hello>" & bye',
    "States": {
        'Say "<hello>" & bye': {"Type": "Pass", "Next": "Pick"},
        "Pick": {"Type": "Choice", "Default": "End here",
                 "Choices": [{"Variable": "$.a", "StringEquals": "<&>", "Next": "End here"}]},
        "End here": {"Type": "Succeed"},
    },
}  # fmt: skip


def _states(root: ET.Element) -> dict[str, ET.Element]:
    return {str(g.get("data-state")): g for g in root.iter(f"{NS}g")
            if "state" in (g.get("class") or "").split()}  # fmt: skip


def test_the_contract_the_web_ui_draws_on() -> None:
    laid = layout(graph(ORDER))
    root = ET.fromstring(to_svg(laid, title="order"))
    assert root.get("class") == "legato-graph"
    assert root.get("viewBox") == f"0 0 {laid.width:g} {laid.height:g}"
    states = _states(root)
    assert set(states) == set(laid.states)
    for name, g in states.items():
        classes = (g.get("class") or "").split()
        assert classes[0] == "state" and "s-none" in classes
        assert g.get("data-type") == laid.states[name].node.type
        assert g.find(f"{NS}text") is not None
        assert not [inner for inner in g.iter(f"{NS}g") if inner is not g]  # never nested
    assert "group" in (states["Fulfil"].get("class") or "")
    assert states["Is it big?"].find(f"{NS}polygon") is not None  # a Choice's shape
    edges = [p for p in root.iter(f"{NS}path") if "edge" in (p.get("class") or "").split()]
    pairs = {(p.get("data-source"), p.get("data-target")) for p in edges}
    assert ("Charge card", "Tell customer") in pairs and ("Fulfil", "Done") in pairs
    catch = next(p for p in edges if p.get("data-target") == "Tell customer")
    assert "e-catch" in (catch.get("class") or "") and catch.get("stroke-dasharray")
    assert root.find(f"{NS}g[@class='legend']") is None
    assert [g.get("class") for g in root.iter(f"{NS}g") if "lane" in (g.get("class") or "")] == [
        "lane", "lane", "lane", "lane"
    ]  # fmt: skip


def test_statuses_colour_the_states_inline_and_add_a_legend() -> None:
    laid = layout(graph(ORDER))
    given = {"Validate order": "succeeded", "Charge card": "retried", "Fulfil": "running",
             "Email receipt": "failed", "Each line": "caught"}  # fmt: skip
    text = to_svg(laid, given, notes={"Charge card": "2 retries, last error: Boom"})
    root = ET.fromstring(text)
    for name, g in _states(root).items():
        status = given.get(name, "not_reached")
        assert f"s-{status}" in (g.get("class") or "").split()
        shape = g.find(f"{NS}rect")
        if shape is None:
            shape = g.find(f"{NS}polygon")
        assert shape is not None and shape.get("stroke") == PALETTE[status][1]
        if status not in ("not_reached", "none") or not laid.states[name].group:
            assert shape.get("fill") == PALETTE[status][0]
    tip = _states(root)["Charge card"].findtext(f"{NS}title")
    assert tip == "Charge card (Task): retried\n2 retries, last error: Boom"
    legend = root.find(f"{NS}g[@class='legend']")
    assert legend is not None
    assert [t.text for t in legend.iter(f"{NS}text")] == [
        "not reached", "running", "succeeded", "failed", "error caught", "retried"
    ]  # fmt: skip
    assert len(STATUSES) == len(legend.findall(f"{NS}rect"))
    height = float((root.get("viewBox") or "").split()[3])
    assert height > laid.height


def test_names_and_labels_are_escaped() -> None:
    text = to_svg(layout(graph(ODD)), title='a "title" <x>')
    root = ET.fromstring(text)  # well-formed
    assert 'Say "<hello>" & bye' in _states(root)
    words = [t.text for t in root.iter(f"{NS}text")]
    assert 'Say "<hello>" & bye' in words and '$.a == "<&>" · Default' in words
    assert root.findtext(f"{NS}title") == 'a "title" <x>'


def test_the_way_an_execution_went_is_drawn_darker() -> None:
    laid = layout(graph(ORDER))
    given = {"Validate order": "succeeded", "Is it big?": "succeeded", "Charge card": "caught",
             "Tell customer": "succeeded", "Declined": "failed"}  # fmt: skip
    went = {("Validate order", "Is it big?"), ("Is it big?", "Charge card"),
            ("Charge card", "Tell customer"), ("Tell customer", "Declined")}  # fmt: skip
    root = ET.fromstring(to_svg(laid, given, taken=went))
    edges = [p for p in root.iter(f"{NS}path") if "edge" in (p.get("class") or "").split()]
    marked = {(p.get("data-source"), p.get("data-target")) for p in edges
              if "taken" in (p.get("class") or "").split()}  # fmt: skip
    assert marked == went | {(None, "Validate order"), ("Declined", None)}
