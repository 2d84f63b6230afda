"""``/v1/definitions/{name}/graph`` and ``/v1/executions/{id}/graph`` over HTTP, against the
real app running its engine: JSON with the layout, SVG (parsed), dot and Mermaid; an execution's
states coloured by their progress, live through a failure and a redrive."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

import legato
from legato.api.server import create_api
from legato.core.asl.graph_svg import PALETTE

SVG_NS = "{http://www.w3.org/2000/svg}"
FAN = """
StartAt: Check
States:
  Check:
    Type: Choice
    Choices:
      - Variable: $.ok
        BooleanEquals: true
        Next: Fan
    Default: Failed
  Fan:
    Type: Parallel
    Branches:
      - StartAt: A
        States:
          A: {Type: Pass, End: true}
      - StartAt: B
        States:
          B: {Type: Pass, Next: C}
          C: {Type: Pass, End: true}
    Catch:
      - ErrorEquals: [States.ALL]
        Next: Failed
    Next: Each
  Each:
    Type: Map
    ItemProcessor:
      StartAt: Item
      States:
        Item: {Type: Pass, End: true}
    End: true
  Failed: {Type: Fail}
"""
SHOP: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "charge", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


class CardReaderDown(Exception):
    pass


@asynccontextmanager
async def serving(url: str) -> AsyncIterator[tuple[list[bool], httpx.AsyncClient]]:
    app = legato.App(url)
    broken = [True]

    @app.step(name="charge")
    async def charge(order: Any) -> Any:
        if broken[0]:
            raise CardReaderDown("the card reader is down")
        return order

    @app.workflow(name="code")
    async def code(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("go")

    app.register_state_machine("shop", SHOP)
    async with app:
        transport = httpx.ASGITransport(app=create_api(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://legato") as client:
            yield broken, client


def _svg_states(text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG_NS}svg" and "legato-graph" in root.get("class", "").split()
    assert len((root.get("viewBox") or "").split()) == 4
    found = {}
    for g in root.iter(f"{SVG_NS}g"):
        if "state" in g.get("class", "").split():
            name = g.get("data-state")
            assert name is not None and name not in found  # one group per state
            assert g.find(f"{SVG_NS}text") is not None
            assert g.find(f"{SVG_NS}rect") is not None or g.find(f"{SVG_NS}polygon") is not None
            found[name] = g
    return found


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (outer["x"] <= inner["x"] and outer["y"] <= inner["y"]
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"])  # fmt: skip


async def test_a_definitions_graph_in_every_format(any_db_url: str) -> None:
    async with serving(any_db_url) as (_, client):
        put = await client.post(
            "/v1/definitions", params={"name": "fan"}, content=FAN,
            headers={"Content-Type": "application/yaml"},
        )  # fmt: skip
        assert put.status_code == 201, put.text
        g = (await client.get("/v1/definitions/fan/graph")).json()
        assert (g["name"], g["version"], g["start"]) == ("fan", "1", "Check")
        states = {s["id"]: s for s in g["states"]}
        assert set(states) == {"Check", "Fan", "A", "B", "C", "Each", "Item", "Failed"}
        assert (states["B"]["parent"], states["B"]["branch"], states["A"]["branch"]) == (
            "Fan", 1, 0
        )  # fmt: skip
        for s in states.values():  # every box on the canvas; nested ones inside their group
            assert s["width"] > 0 and s["height"] > 0
            assert s["x"] + s["width"] <= g["layout"]["width"]
            assert s["y"] + s["height"] <= g["layout"]["height"]
            if s["parent"] is not None:
                assert _inside(s, states[s["parent"]])
        assert states["Fan"]["group"] and not states["A"]["group"]
        assert states["Check"]["y"] < states["Fan"]["y"] < states["Each"]["y"]
        labels = {(e["source"], e["target"]): e["label"] for e in g["edges"]}
        assert labels[("Check", "Fan")] == "$.ok == true"
        assert labels[("Fan", "Failed")] == "States.ALL"
        routes = {(r["source"], r["target"]): r for r in g["layout"]["routes"]}
        drawn = {(e["source"], e["target"]) for e in g["edges"] if e["kind"] not in
                 ("branch", "iterator")}  # fmt: skip
        assert drawn <= set(routes) and (None, "Check") in routes and ("Each", None) in routes
        assert all(len(r["points"]) >= 2 for r in routes.values())
        assert routes[("Fan", "Failed")]["label_at"] is not None
        assert sorted(lane["title"] for lane in g["layout"]["lanes"]) == [
            "branch 1", "branch 2", "for each item"
        ]  # fmt: skip

        svg = await client.get("/v1/definitions/fan/graph", params={"format": "svg"})
        assert svg.headers["content-type"].startswith("image/svg+xml")
        drawn_states = _svg_states(svg.text)
        assert set(drawn_states) == set(states)
        assert all("s-none" in g.get("class", "") for g in drawn_states.values())
        assert "group" in drawn_states["Fan"].get("class", "").split()
        root = ET.fromstring(svg.text)
        edges = [p for p in root.iter(f"{SVG_NS}path") if "edge" in p.get("class", "").split()]
        assert {(p.get("data-source"), p.get("data-target")) for p in edges} >= drawn
        assert any("e-catch" in p.get("class", "") for p in edges)

        dot = await client.get("/v1/definitions/fan/graph", params={"format": "dot"})
        assert dot.headers["content-type"].startswith("text/vnd.graphviz")
        assert dot.text.startswith('digraph "fan (version 1)"')
        for name in states:
            assert f'"{name}"' in dot.text or f"{name} (" in dot.text
        # stored definitions are canonical JSON (keys sorted): Each is the first group
        assert '"Check" -> "A" [label="$.ok == true", lhead=cluster_1];' in dot.text
        assert '"B" -> "C";' in dot.text and "subgraph cluster_1 {" in dot.text

        mermaid = await client.get("/v1/definitions/fan/graph", params={"format": "mermaid"})
        ids = {n: f"s{i}" for i, n in enumerate(states)}
        fan, check = ids["Fan"], ids["Check"]
        assert mermaid.text.startswith("---\ntitle: fan (version 1)\n---\nflowchart TD\n")
        assert f'subgraph {fan}["Fan (Parallel)"]' in mermaid.text
        assert f'{check} -->|"$.ok == true"| {fan}' in mermaid.text
        assert f"{fan} -.->|" in mermaid.text

        assert (await client.get("/v1/definitions/nope/graph")).status_code == 404
        bad = await client.get("/v1/definitions/fan/graph", params={"format": "png"})
        assert bad.status_code == 422


async def _settled(client: httpx.AsyncClient, eid: str) -> str:
    got = await client.get(f"/v1/executions/{eid}", params={"wait": 20})
    assert got.status_code == 200, got.text
    status: str = got.json()["status"]
    return status


async def test_an_executions_graph_shows_the_failure_then_the_redrive(db_url: str) -> None:
    async with serving(db_url) as (broken, client):
        started = await client.post("/v1/executions", json={"workflow": "shop", "input": {}})
        eid = started.json()["id"]
        assert await _settled(client, eid) == "FAILED"
        g = (await client.get(f"/v1/executions/{eid}/graph")).json()
        assert (g["execution_id"], g["status"], g["name"]) == (eid, "FAILED", "shop")
        progress = {s["id"]: s["progress"] for s in g["states"]}
        assert {k: p["status"] for k, p in progress.items()} == {
            "Prepare": "succeeded", "Charge": "failed", "Done": "not_reached"
        }  # fmt: skip
        assert progress["Charge"]["error"] == "CardReaderDown"
        assert [(e["source"], e["target"]) for e in g["edges"] if e["taken"]] == [
            ("Prepare", "Charge")
        ]  # fmt: skip

        svg = await client.get(f"/v1/executions/{eid}/graph", params={"format": "svg"})
        drawn = _svg_states(svg.text)
        assert "s-failed" in drawn["Charge"].get("class", "").split()
        shape = drawn["Charge"].find(f"{SVG_NS}rect")
        assert shape is not None and shape.get("fill") == PALETTE["failed"][0]
        assert "s-not_reached" in drawn["Done"].get("class", "").split()

        broken[0] = False
        assert (await client.post(f"/v1/executions/{eid}/redrive")).status_code == 200
        assert await _settled(client, eid) == "COMPLETED"
        again = (await client.get(f"/v1/executions/{eid}/graph")).json()
        assert {s["id"]: s["progress"]["status"] for s in again["states"]} == {
            "Prepare": "succeeded", "Charge": "retried", "Done": "succeeded"
        }  # fmt: skip


async def test_a_code_workflow_has_no_graph_and_an_unknown_id_none_either(db_url: str) -> None:
    async with serving(db_url) as (_, client):
        code = await client.post("/v1/executions", json={"workflow": "code"})
        eid = code.json()["id"]
        got = await client.get(f"/v1/executions/{eid}/graph")
        assert got.status_code == 409 and got.json()["type"].endswith("not-a-state-machine")
        assert (await client.get("/v1/executions/nope/graph")).status_code == 404
        bad = await client.get(f"/v1/executions/{eid}/graph", params={"format": "dot"})
        assert bad.status_code == 422


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
