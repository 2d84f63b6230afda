"""``POST /v1/executions`` answered by its fast path (``legato.api.fast_start``): an ordinary
start never reaches the FastAPI route, anything else reaches it with the body it sent, and
what a client sees is the route's answer either way (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from legato.api.fast_start import StartFastPath
from legato.api.server import create_api
from legato.api.settings import ApiSettings
from tests.api.apps import make_app, serving

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
START = {"workflow": "order", "kwargs": {"customer": "acme", "items": []}}


class Route:
    """Stands for the FastAPI app behind the fast path: records what reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


async def _post(fast: StartFastPath, body: bytes, headers: dict[str, str]) -> Message:
    """One request through ``fast`` as two body chunks; the response's start message."""
    chunks: list[Message] = [
        {"type": "http.request", "body": body[:5], "more_body": True},
        {"type": "http.request", "body": body[5:], "more_body": False},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/executions",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": fast.api,
    }
    await fast(scope, receive, send)
    start = sent[0]
    start["body"] = b"".join(m.get("body", b"") for m in sent[1:])
    return start


@pytest.fixture
async def fast(any_db_url: str) -> AsyncIterator[tuple[StartFastPath, Route]]:
    app = make_app(any_db_url)
    async with app:
        route = Route()
        yield StartFastPath(route, create_api(app)), route


JSON = {"Content-Type": "application/json"}


async def test_an_ordinary_start_never_reaches_the_route(
    fast: tuple[StartFastPath, Route],
) -> None:
    path, route = fast
    answered = await _post(path, json.dumps(START).encode(), JSON)
    assert answered["status"] == 201, answered
    body = json.loads(answered["body"])
    assert body["created"] is True and body["status"] == "RUNNING" and body["kind"] == "code"
    assert body["started_by"] == {"kind": "api"}
    assert route.bodies == []
    keyed = await _post(path, json.dumps(START).encode(), {**JSON, "Idempotency-Key": "k1"})
    again = await _post(path, json.dumps(START).encode(), {**JSON, "Idempotency-Key": "k1"})
    assert (keyed["status"], again["status"]) == (201, 200)
    assert json.loads(keyed["body"])["id"] == json.loads(again["body"])["id"]
    assert route.bodies == []


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"workflow": "order", "args": [', JSON),  # not JSON
        (b'{"workflow": "", "args": []}', JSON),  # fails the request model
        (b'{"workflow": "order", "colour": 1}', JSON),  # a field the model forbids
        (json.dumps(START).encode(), {"Content-Type": "text/plain"}),
        (json.dumps(START).encode(), {}),
        (json.dumps(START).encode(), {**JSON, "Idempotency-Key": "k" * 257}),
    ],
)
async def test_anything_else_reaches_the_route_with_the_body_it_sent(
    fast: tuple[StartFastPath, Route], body: bytes, headers: dict[str, str]
) -> None:
    path, route = fast
    answered = await _post(path, body, headers)
    assert answered["status"] == 299
    assert route.bodies == [body]


async def test_errors_of_the_start_are_the_applications_problems(any_db_url: str) -> None:
    async with serving(any_db_url) as (app, client):
        missing = await client.post("/v1/executions", json={"workflow": "nope"})
        assert missing.status_code == 404, missing.text
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["type"].endswith("/definition-not-found")
        assert "nope" in missing.json()["detail"]
        bad = await client.post("/v1/executions", json={"workflow": "order", "args": [1, 2]})
        assert bad.status_code == 422 and bad.json()["type"].endswith("/invalid-input")
        malformed = await client.post("/v1/executions", content=b'{"workflow": ', headers=JSON)
        assert malformed.status_code == 422
        assert malformed.json()["type"].endswith("/invalid-request")
        long_key = await client.post(
            "/v1/executions", json=START, headers={"Idempotency-Key": "k" * 257}
        )
        assert long_key.status_code == 422, long_key.text
        assert long_key.json()["errors"][0]["in"] == "header"
        assert await app.list_executions() == []  # nothing was written by any of them


async def test_the_keys_still_guard_it(any_db_url: str) -> None:
    async with serving(any_db_url, ApiSettings(require_keys=True)) as (app, client):
        unauthorised = await client.post("/v1/executions", json=START)
        assert unauthorised.status_code == 401
        assert unauthorised.json()["type"].endswith("/unauthorized")
        assert await app.list_executions() == []


async def test_the_body_limit_still_guards_it(any_db_url: str) -> None:
    async with serving(any_db_url, ApiSettings(max_body_bytes=200)) as (app, client):

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(10):
                yield b" " * 50
            yield json.dumps(START).encode()

        big = await client.post("/v1/executions", content=chunks(), headers=JSON)
        assert big.status_code == 413, big.text
        assert big.json()["type"].endswith("/request-too-large")
        assert await app.list_executions() == []


async def test_a_start_answers_the_row_it_committed(any_db_url: str) -> None:
    async with serving(any_db_url) as (app, client):
        started = await client.post("/v1/executions", json={**START, "labels": {"team": "a"}})
        assert started.status_code == 201
        answered: dict[str, Any] = started.json()
        stored = (await client.get(f"/v1/executions/{answered['id']}")).json()
        for field in ("id", "workflow", "version", "kind", "input", "labels", "started_by"):
            assert answered[field] == stored[field], field
        assert answered["created_at"] == stored["created_at"]
