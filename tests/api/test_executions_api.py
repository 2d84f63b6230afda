"""The executions, workflows and task-token resources over HTTP, against the real app running
its engine on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import psycopg
import pytest

import legato
from legato.core.events import EventType, ExternalTaskStarted
from tests.api.apps import serving
from tests.conftest import of_type

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ITEMS = [{"sku": "a", "quantity": 2}, {"sku": "b", "quantity": 3}]


async def _done(client: httpx.AsyncClient, eid: str) -> dict[str, Any]:
    got = await client.get(f"/v1/executions/{eid}", params={"wait": 20})
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


async def test_start_get_and_wait_for_a_code_workflow(any_db_url: str) -> None:
    async with serving(any_db_url) as (_app, client):
        started = await client.post(
            "/v1/executions",
            json={"workflow": "order", "kwargs": {"customer": "acme", "items": ITEMS},
                  "labels": {"customer": "acme"}},
        )  # fmt: skip
        assert started.status_code == 201, started.text
        body = started.json()
        assert body["created"] is True and body["kind"] == "code"
        assert body["input"] == {"args": [], "kwargs": {"customer": "acme", "items": ITEMS}}
        assert body["labels"] == {"customer": "acme"}
        done = await _done(client, body["id"])
        assert done["status"] == "COMPLETED"
        assert done["output"] == {"customer": "acme", "total": 5, "rush": False}
        assert done["closed_at"] is not None and done["error"] is None
        assert done["started_by"] == {"kind": "api"}  # what started it is recorded with it
        started_in_code = await _app.start("order", "acme", ITEMS)
        assert (await started_in_code.status()).started_by is None
        got = await client.get(f"/v1/executions/{started_in_code.id}")
        assert got.json()["started_by"] is None
        assert (await _app.get_handle(body["id"]).status()).started_by == {"kind": "api"}


async def test_input_not_fitting_the_schema_is_422_naming_the_field(any_db_url: str) -> None:
    async with serving(any_db_url) as (app, client):
        bad = await client.post(
            "/v1/executions",
            json={"workflow": "order", "args": ["acme", [{"sku": "a", "quantity": "many"}]]},
        )
        assert bad.status_code == 422, bad.text
        assert bad.headers["content-type"] == "application/problem+json"
        problem = bad.json()
        assert problem["type"].endswith("/invalid-input")
        assert problem["errors"] == [
            {"path": "$.args[1][0].quantity", "message": problem["errors"][0]["message"]}
        ]
        assert "$.args[1][0].quantity" in problem["detail"]
        missing = await client.post(
            "/v1/executions", json={"workflow": "order", "kwargs": {"items": [], "colour": 1}}
        )
        assert missing.status_code == 422
        paths = {e["path"]: e["message"] for e in missing.json()["errors"]}
        assert paths == {
            "$.kwargs.customer": "missing required argument 'customer'",
            "$.kwargs.colour": "unexpected argument 'colour'",
        }
        assert await app.list_executions() == []  # nothing was written


async def test_idempotent_on_id_and_on_the_idempotency_key(any_db_url: str) -> None:
    async with serving(any_db_url) as (app, client):
        request = {"workflow": "waiter", "id": "order-7"}
        first = await client.post("/v1/executions", json=request)
        again = await client.post("/v1/executions", json=request)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["created"] is False and again.json()["id"] == "order-7"
        other = await client.post("/v1/executions", json={"workflow": "priced", "id": "order-7"})
        assert other.status_code == 409 and other.json()["type"].endswith("already-exists")

        keyed = {"workflow": "order", "kwargs": {"customer": "k", "items": []}}
        headers = {"Idempotency-Key": "req-1"}
        a = await client.post("/v1/executions", json=keyed, headers=headers)
        b = await client.post("/v1/executions", json=keyed, headers=headers)
        assert (a.status_code, b.status_code) == (201, 200)
        assert a.json()["id"] == b.json()["id"]
        changed = {"workflow": "order", "kwargs": {"customer": "other", "items": []}}
        clash = await client.post("/v1/executions", json=changed, headers=headers)
        assert clash.status_code == 409
        assert len(await app.list_executions()) == 2


async def test_a_state_machine_takes_input_and_has_an_aws_history(any_db_url: str) -> None:
    async with serving(any_db_url) as (_app, client):
        started = await client.post(
            "/v1/executions", json={"workflow": "priced", "input": {"amount": 12}}
        )
        assert started.status_code == 201, started.text
        eid = started.json()["id"]
        assert started.json()["kind"] == "state_machine"
        assert started.json()["input"] == {"amount": 12}
        done = await _done(client, eid)
        assert done["output"] == {"total": 12}
        history = (await client.get(f"/v1/executions/{eid}/history")).json()["events"]
        assert history[0]["type"] == "ExecutionStarted" and history[0]["seq"] == 1
        aws = await client.get(f"/v1/executions/{eid}/history", params={"format": "aws"})
        events = aws.json()["events"]
        assert [e["type"] for e in events] == [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded",
        ]
        assert [(e["id"], e["previousEventId"]) for e in events[:2]] == [(1, 0), (2, 1)]
        assert events[0]["executionStartedEventDetails"]["input"] == '{"amount":12}'
        assert events[1]["stateEnteredEventDetails"]["name"] == "Price"
        assert events[-1]["executionSucceededEventDetails"]["output"] == '{"total":12}'

        code = await client.post("/v1/executions", json={"workflow": "waiter"})
        not_aws = await client.get(
            f"/v1/executions/{code.json()['id']}/history", params={"format": "aws"}
        )
        assert not_aws.status_code == 409


async def test_list_filters_and_pages(any_db_url: str) -> None:
    async with serving(any_db_url) as (_app, client):
        ids = []
        for i in range(5):
            labels = {"batch": "b1" if i % 2 else "b2", "n": str(i)}
            r = await client.post(
                "/v1/executions", json={"workflow": "waiter", "id": f"w{i}", "labels": labels}
            )
            ids.append(r.json()["id"])
        await client.post("/v1/executions", json={"workflow": "broken", "id": "x"})
        assert (await _done(client, "x"))["status"] == "FAILED"

        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"workflow": "waiter", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/executions", params=params)).json()
            seen += [e["id"] for e in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(ids) and len(seen) == 5

        by_label = await client.get(
            "/v1/executions", params=[("label", "batch=b1"), ("label", "n=3")]
        )
        assert [e["id"] for e in by_label.json()["items"]] == ["w3"]
        failed = await client.get("/v1/executions", params={"status": "FAILED"})
        [x] = failed.json()["items"]
        assert x["id"] == "x" and x["error"]["type"] == "ValueError"
        closed = await client.get("/v1/executions", params={"closed_after": "2000-01-01T00:00:00Z"})
        assert [e["id"] for e in closed.json()["items"]] == ["x"]
        future = await client.get(
            "/v1/executions", params={"started_after": "2999-01-01T00:00:00Z"}
        )
        assert future.json() == {"items": [], "next_cursor": None}
        bad = await client.get("/v1/executions", params={"cursor": "nope"})
        assert bad.status_code == 400 and bad.json()["type"].endswith("/bad-cursor")
        bad_label = await client.get("/v1/executions", params={"label": "novalue"})
        assert bad_label.status_code == 422


async def test_signal_cancel_terminate_and_redrive(any_db_url: str) -> None:
    async with serving(any_db_url) as (_app, client):
        await client.post("/v1/executions", json={"workflow": "waiter", "id": "s"})
        sent = await client.post("/v1/executions/s/signals/go", json={"payload": {"v": 1}})
        assert sent.status_code == 202
        assert (await _done(client, "s"))["output"] == {"v": 1}
        late = await client.post("/v1/executions/s/signals/go", json={"payload": 2})
        assert late.status_code == 409 and late.json()["type"].endswith("/execution-closed")
        missing = await client.post("/v1/executions/nope/signals/go", json={})
        assert missing.status_code == 404

        await client.post("/v1/executions", json={"workflow": "waiter", "id": "c"})
        cancelled = await client.post("/v1/executions/c/cancel", json={"reason": "no longer"})
        assert cancelled.status_code == 202
        assert (await _done(client, "c"))["status"] == "CANCELLED"

        await client.post("/v1/executions", json={"workflow": "waiter", "id": "t"})
        ended = await client.post("/v1/executions/t/terminate", json={"reason": "stop"})
        assert ended.status_code == 200 and ended.json()["status"] == "TERMINATED"

        redriven = await client.post("/v1/executions/c/redrive")
        assert redriven.status_code == 200, redriven.text
        assert redriven.json()["status"] in ("PENDING", "RUNNING")
        not_suspended = await client.post("/v1/executions/c/resume")
        assert not_suspended.status_code == 409


async def test_task_tokens(any_db_url: str) -> None:
    async with serving(any_db_url) as (app, client):
        await client.post("/v1/executions", json={"workflow": "callback", "id": "cb"})
        handle = app.get_handle("cb")

        async def token() -> str:
            while True:
                history = await handle.history()
                started = of_type(history, ExternalTaskStarted)
                if started:
                    return started[0].token
                await handle.wait_settled(0.05)

        t = await token()
        beat = await client.post("/v1/task-tokens/heartbeat", json={"token": t})
        assert beat.status_code == 204
        ok = await client.post("/v1/task-tokens/success", json={"token": t, "output": [1, 2]})
        assert ok.status_code == 204
        assert (await _done(client, "cb"))["output"] == [1, 2]
        spent = await client.post("/v1/task-tokens/failure", json={"token": t, "cause": "late"})
        assert spent.status_code == 409
        unknown = await client.post("/v1/task-tokens/success", json={"token": "bogus"})
        assert unknown.status_code == 404
        assert EventType.EXTERNAL_TASK_COMPLETED in [e.type for e in await handle.history()]


async def test_payloads_above_the_inline_limit_are_413(any_db_url: str) -> None:
    async with serving(any_db_url, inline_payload_bytes=1000) as (app, client):
        big = "x" * 2000
        refused = await client.post("/v1/executions", json={"workflow": "priced", "input": big})
        assert refused.status_code == 413
        assert refused.json()["type"].endswith("/payload-too-large")
        await client.post("/v1/executions", json={"workflow": "waiter", "id": "p"})
        signal = await client.post("/v1/executions/p/signals/go", json={"payload": big})
        assert signal.status_code == 413
        with pytest.raises(legato.PayloadTooLarge):
            await app.start("priced", big)
        assert [e.id for e in await app.list_executions()] == ["p"]


async def test_workflows_list_their_argument_schemas(any_db_url: str) -> None:
    async with serving(any_db_url) as (_app, client):
        listed = (await client.get("/v1/workflows")).json()["items"]
        by_name = {w["name"]: w for w in listed}
        assert set(by_name) == {"order", "waiter", "callback", "broken", "priced"}
        schema = by_name["order"]["args_schema"]
        assert schema["required"] == ["customer", "items"]
        assert schema["properties"]["rush"]["default"] is False
        assert by_name["priced"]["kind"] == "state_machine"
        one = await client.get("/v1/workflows/order")
        assert one.json()["latest_version"] == "1"
        assert (await client.get("/v1/workflows/nope")).status_code == 404


async def test_readyz_says_ready_when_the_schema_is_current(any_db_url: str) -> None:
    async with serving(any_db_url) as (_app, client):
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}


def _forget_migration(url: str, version: int) -> None:
    sql = f"DELETE FROM schema_migrations WHERE version = {version}"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(sql)
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql)


async def test_readyz_is_503_naming_a_migration_the_database_lacks(any_db_url: str) -> None:
    async with serving(any_db_url) as (_app, client):
        _forget_migration(any_db_url, 7)
        answer = await client.get("/readyz")
        assert answer.status_code == 503
        problem = answer.json()
        assert problem["missing_migrations"] == [7]
        assert "0007" in problem["detail"] and "legato migrate" in problem["detail"]
