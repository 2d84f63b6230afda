"""Execution ids with a slash (a child's default id is ``parent/N``) in the API's paths, sent
as ``%2F`` (``legato.api.path_ids``): get, history, signal, cancel and the graph reach the
child; an id that holds ``%2F`` or ``%`` as text stays itself; the schema's paths are as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import legato
from legato.api.path_ids import kept_path
from legato.api.server import create_api
from tests.conftest import poll


def _app(url: str) -> legato.App:
    app = legato.App(url)

    @app.workflow(name="waiter")
    async def waiter(ctx: legato.Context) -> Any:
        return await ctx.wait_for_signal("go")

    @app.workflow(name="parent")
    async def parent(ctx: legato.Context) -> Any:
        return await ctx.child(waiter)

    return app


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[legato.App, httpx.AsyncClient]]:
    app = _app(f"sqlite:///{tmp_path / 'ids.db'}")
    async with app:
        transport = httpx.ASGITransport(app=create_api(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


def _path(execution_id: str, rest: str = "") -> str:
    return f"/v1/executions/{quote(execution_id, safe='')}{rest}"


async def test_a_child_is_reached_by_its_id_with_a_slash(
    served: tuple[legato.App, httpx.AsyncClient],
) -> None:
    app, client = served
    started = await client.post("/v1/executions", json={"workflow": "parent", "id": "p"})
    assert started.status_code == 201, started.text
    child = "p/1"

    async def child_waits() -> bool:
        got = await client.get(_path(child))
        return got.status_code == 200 and got.json()["status"] == "RUNNING"

    await poll(child_waits)
    found = (await client.get(_path(child))).json()
    assert found["id"] == child and found["workflow"] == "waiter"
    history = (await client.get(_path(child, "/history"))).json()["events"]
    assert history[0]["type"] == "ExecutionStarted"
    sent = await client.post(_path(child, "/signals/go"), json={"payload": 7})
    assert sent.status_code == 202, sent.text
    assert await app.get_handle("p").result(timeout=20) == 7
    done = (await client.get(_path(child), params={"wait": 20})).json()
    assert done["status"] == "COMPLETED" and done["output"] == 7
    graph = await client.get(_path(child, "/graph"))
    assert graph.status_code == 409, graph.text  # reached: a code workflow has no graph
    missing = await client.post(_path("p/9", "/cancel"))
    assert missing.status_code == 404 and "'p/9'" in missing.json()["detail"]


@pytest.mark.parametrize("execution_id", ["a%2Fb", "50%off", "a/%2F/b", "plain"])
async def test_an_id_with_percent_signs_is_itself(
    served: tuple[legato.App, httpx.AsyncClient], execution_id: str
) -> None:
    _, client = served
    start = {"workflow": "waiter", "id": execution_id}
    assert (await client.post("/v1/executions", json=start)).status_code == 201
    got = await client.get(_path(execution_id))
    assert got.status_code == 200 and got.json()["id"] == execution_id
    cancelled = await client.post(_path(execution_id, "/cancel"))
    assert cancelled.status_code == 202 and cancelled.json()["execution_id"] == execution_id


@pytest.mark.parametrize(
    ("raw", "path"),
    [(b"/v1/executions/a%2fb/history", "/v1/executions/a%2Fb/history"),
     (b"/v1/executions/%C3%A9%2F1?wait=1", "/v1/executions/\u00e9%2F1"),
     (b"/v1/executions/50%25%2F1", "/v1/executions/50%25%2F1")],
)  # fmt: skip
def test_kept_path_decodes_all_but_slashes_and_percent_signs(raw: bytes, path: str) -> None:
    assert kept_path(raw) == path


async def test_the_schema_names_the_paths_as_before(tmp_path: Path) -> None:
    app = legato.App(f"sqlite:///{tmp_path / 's.db'}")
    try:
        paths = create_api(app).openapi()["paths"]
    finally:
        await app.shutdown()
    assert "/v1/executions/{execution_id}/history" in paths
    assert "/v1/executions/{execution_id}/signals/{name}" in paths
    assert "/v1/executions/{execution_id}/graph" in paths
