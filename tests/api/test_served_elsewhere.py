"""Starting, over the API, a code workflow this server does not have but another engine on
its database serves: its input is checked against the JSON Schema that engine recorded at its
start-up, and the execution waits PENDING for that engine."""

from __future__ import annotations

import httpx
import pytest

import legato
from legato.api.server import create_api

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def worker_app(url: str) -> legato.App:
    app = legato.App(url)

    @app.workflow(name="invoice")
    async def invoice(ctx: legato.Context, customer: str, cents: int) -> str:
        return f"{customer}:{cents}"

    return app


async def test_input_checked_with_the_recorded_schema_then_run_by_its_engine(
    any_db_url: str,
) -> None:
    async with worker_app(any_db_url):  # records what it serves, then stops
        pass
    server = legato.App(any_db_url)  # serves the API, knows no workflow
    async with server:
        transport = httpx.ASGITransport(app=create_api(server))
        async with httpx.AsyncClient(transport=transport, base_url="http://legato") as client:
            listed = (await client.get("/v1/workflows")).json()["items"]
            assert [(w["name"], w["kind"]) for w in listed] == [("invoice", "code")]
            assert listed[0]["args_schema"]["required"] == ["customer", "cents"]
            bad = await client.post(
                "/v1/executions", json={"workflow": "invoice", "args": ["acme", "lots"]}
            )
            assert bad.status_code == 422
            assert [e["path"] for e in bad.json()["errors"]] == ["$.args[1]"]
            missing = await client.post(
                "/v1/executions", json={"workflow": "invoice", "kwargs": {"customer": "a"}}
            )
            assert missing.status_code == 422
            assert missing.json()["errors"] == [
                {"path": "$.kwargs.cents", "message": "missing required argument 'cents'"}
            ]
            extra = await client.post(
                "/v1/executions",
                json={"workflow": "invoice", "args": ["a", 1], "kwargs": {"colour": "red"}},
            )
            assert extra.json()["errors"] == [
                {"path": "$.kwargs.colour", "message": "unexpected argument 'colour'"}
            ]
            good = await client.post(
                "/v1/executions",
                json={"workflow": "invoice", "args": ["acme"], "kwargs": {"cents": 120},
                      "id": "inv-1", "labels": {"via": "api"}},
            )  # fmt: skip
            assert good.status_code == 201, good.text
            assert good.json()["status"] == "PENDING" and good.json()["kind"] == "code"
            again = await client.post(
                "/v1/executions",
                json={"workflow": "invoice", "args": ["acme"], "kwargs": {"cents": 120},
                      "id": "inv-1", "labels": {"via": "api"}},
            )  # fmt: skip
            assert again.status_code == 200
            unknown = await client.post("/v1/executions", json={"workflow": "nope"})
            assert unknown.status_code == 404
    worker = worker_app(any_db_url)
    async with worker:
        assert await worker.get_handle("inv-1").result(timeout=20) == "acme:120"
