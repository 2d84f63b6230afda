"""``/v1/events``, ``/v1/subscriptions`` and ``/v1/dead-letters`` over HTTP against a real app
on SQLite and PostgreSQL: an event starts its workflow once however often it is posted, an
invalid event is a 422 naming the field, and the event shows its executions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import legato
from legato.api.server import create_api
from legato.core.subscriptions import event_execution_id

CE_TYPE = {"Content-Type": "application/cloudevents+json"}


@pytest.fixture
async def app(any_db_url: str) -> AsyncIterator[legato.App]:
    app = legato.App(any_db_url)

    @app.workflow(name="on_order")
    async def on_order(ctx: legato.Context, order: dict[str, Any]) -> Any:
        return order

    async with app:
        yield app


@pytest.fixture
async def client(app: legato.App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_api(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://legato") as client:
        yield client


SOURCE = "https://shop.example/orders"


def _event(event_id: str, source: str = SOURCE, **more: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": source, "type": "order.placed",
            "data": {"total": 10}, **more}  # fmt: skip


async def test_an_event_posted_twice_starts_its_workflow_once(
    client: httpx.AsyncClient, app: legato.App
) -> None:
    made = await client.post("/v1/subscriptions", json={
        "name": "orders", "event_type": "order.placed", "workflow": "on_order",
        "filter": "data.total > 5"})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["filter"] == "data.total > 5"
    body = _event("e-1")
    first = await client.post("/v1/events", content=json.dumps(body), headers=CE_TYPE)
    assert first.status_code == 202, first.text
    eid = event_execution_id("orders", body["source"], "e-1")
    assert first.json() == {
        "results": [
            {
                "status": "started",
                "source": body["source"],
                "id": "e-1",
                "execution_ids": [eid],
                "reason": None,
            }
        ]
    }
    again = await client.post("/v1/events", json=body)
    assert again.json()["results"][0]["status"] == "duplicate"
    assert await app.get_handle(eid).result() == {"total": 10}
    shown = await client.get("/v1/events", params={"source": body["source"], "id": "e-1"})
    assert shown.status_code == 200, shown.text
    out = shown.json()
    assert (out["type"], out["via"], out["data"], out["execution_ids"]) == (
        "order.placed", "http", {"total": 10}, [eid]
    )  # fmt: skip
    assert out["executions"] == [{"id": eid, "workflow": "on_order", "version": "1",
                                  "status": "COMPLETED"}]  # fmt: skip
    plain = await client.post("/v1/events", json=_event("e-2", source="shop"))
    assert plain.json()["results"][0]["status"] == "started"
    by_path = await client.get(f"/v1/events/shop/{quote('e-2')}")
    assert by_path.status_code == 200 and by_path.json()["id"] == "e-2"
    execution = await client.get(f"/v1/executions/{eid}")
    assert execution.json()["started_by"] == {"kind": "event", "subscription": "orders",
                                              "source": body["source"], "id": "e-1",
                                              "type": "order.placed"}  # fmt: skip


async def test_a_batch_is_one_request_with_one_result_per_event(client: httpx.AsyncClient) -> None:
    await client.post("/v1/subscriptions", json={
        "name": "orders", "event_type": "order.placed", "workflow": "on_order",
        "transform": "data.total + 'x'"})  # fmt: skip
    batch = [_event("a"), _event("a"), {**_event("b"), "type": "other"}]
    batch_type = {"Content-Type": "application/cloudevents-batch+json"}
    for answer in (
        await client.post("/v1/events", json={"events": batch}),
        await client.post("/v1/events", content=json.dumps(batch), headers=batch_type),
    ):
        assert answer.status_code == 202, answer.text
        statuses = [r["status"] for r in answer.json()["results"]]
        assert statuses in (["dead_letter", "duplicate", "no_match"], ["duplicate"] * 3)
    letters = await client.get("/v1/dead-letters")
    assert letters.status_code == 200
    (letter,) = letters.json()["items"]
    assert letter["subscription"] == "orders" and "transform failed" in letter["reason"]
    assert letter["via"] == "http" and json.loads(letter["body"])["id"] == "a"
    assert letters.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"id": "1", "source": "s"}, "$.type"),
        ({"events": [{"id": "1", "source": "s", "type": "t"}, {"id": 2, "source": "s",
                                                              "type": "t"}]}, "$.events[1].id"),
        ([{"id": "1", "source": "", "type": "t"}], "$[0].source"),
        ({"events": "no"}, "$.events"),
        ("text", "$"),
    ],
)  # fmt: skip
async def test_an_invalid_event_is_a_422_naming_the_field_and_nothing_is_taken(
    client: httpx.AsyncClient, app: legato.App, body: Any, path: str
) -> None:
    answer = await client.post("/v1/events", json=body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"].endswith("/invalid-event") and problem["errors"][0]["path"] == path
    assert await app.dead_letters() == []
    broken = await client.post("/v1/events", content=b"{nope", headers=CE_TYPE)
    assert broken.status_code == 422 and "not UTF-8 JSON" in broken.json()["detail"]


async def test_subscriptions_crud_and_problems(client: httpx.AsyncClient) -> None:
    sub = {"name": "orders", "event_type": "order.placed", "workflow": "on_order"}
    assert (await client.post("/v1/subscriptions", json=sub)).status_code == 201
    assert (await client.post("/v1/subscriptions", json=sub)).status_code == 200
    clash = await client.post("/v1/subscriptions", json={**sub, "event_type": "x"})
    assert clash.status_code == 409 and clash.json()["type"].endswith("/subscription-exists")
    bad = await client.post("/v1/subscriptions", json={**sub, "name": "b", "filter": "data.("})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "$.filter"
    unknown = await client.post("/v1/subscriptions", json={**sub, "name": "c", "workflow": "no"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["path"] == "$.workflow"
    listed = await client.get("/v1/subscriptions")
    assert [s["name"] for s in listed.json()["items"]] == ["orders"]
    assert (await client.get("/v1/subscriptions/orders")).json()["workflow"] == "on_order"
    assert (await client.delete("/v1/subscriptions/orders")).status_code == 204
    gone = await client.delete("/v1/subscriptions/orders")
    assert gone.status_code == 404 and gone.json()["type"].endswith("/subscription-not-found")
    assert (await client.get("/v1/subscriptions/orders")).status_code == 404
    missing = await client.get("/v1/events", params={"source": "s", "id": "nope"})
    assert missing.status_code == 404 and missing.json()["type"].endswith("/event-not-found")
    cursor = await client.get("/v1/dead-letters", params={"cursor": "!!"})
    assert cursor.status_code == 400 and cursor.json()["type"].endswith("/bad-cursor")


async def test_dead_letters_page_with_a_cursor(client: httpx.AsyncClient) -> None:
    # bodies that are events to HTTP but whose subscription fails: dead letters
    await client.post("/v1/subscriptions", json={
        "name": "orders", "event_type": "order.placed", "workflow": "on_order",
        "filter": "$number('x')"})  # fmt: skip
    await client.post("/v1/events", json={"events": [_event(str(i)) for i in range(5)]})
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/dead-letters", params=params)).json()
        seen += [d["event_id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["0", "1", "2", "3", "4"] and len(set(seen)) == 5


async def test_a_dead_letter_is_redriven_once(client: httpx.AsyncClient, app: legato.App) -> None:
    await app.create_subscription("broken", "order.placed", "on_order", filter="data.total + 'x'")
    await app.ingest_events([json.dumps(_event("e-9"))], "test")
    (letter,) = (await client.get("/v1/dead-letters")).json()["items"]
    assert letter["redriven_at"] is None and letter["redriven_to"] is None
    path = f"/v1/dead-letters/{letter['id']}/redrive"
    fails = await client.post(path)
    assert fails.status_code == 422 and fails.json()["type"].endswith("dead-letter-fails")
    assert "filter failed" in fails.json()["detail"] and fails.json()["dead_letter"] == letter["id"]
    await app.delete_subscription("broken")
    await app.create_subscription("broken", "order.placed", "on_order", filter="data.total > 1")
    done = await client.post(path)
    assert done.status_code == 200, done.text
    eid = event_execution_id("broken", SOURCE, "e-9")
    assert done.json()["redriven_to"] == [eid] and done.json()["redriven_at"]
    assert await app.get_handle(eid).result(timeout=20) == {"total": 10}
    again = await client.post(path)
    assert again.status_code == 200 and again.json() == done.json()
    missing = await client.post("/v1/dead-letters/nope/redrive")
    assert missing.status_code == 404 and missing.json()["type"].endswith("dead-letter-not-found")
