"""The API served by a real ``legato dev`` process on its HTTP port (``LEGATO_HTTP`` is
``127.0.0.1:0`` in tests: the port is read from its log): ready, start with labels, wait for
the result, list by label, signal."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx
import pytest

from tests.api_process import API_ON
from tests.conftest import Waiter
from tests.processes import Processes

E2E = Path(__file__).resolve().parent.parent / "e2e"
LEGATO = [sys.executable, "-m", "legato.cli"]
SERVING = re.compile(r"API serving on (http://127\.0\.0\.1:\d+)")


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_legato_dev_serves_the_executions_api(
    tmp_path: Path, processes: Processes, wait_for: Waiter
) -> None:
    env = {"PYTHONPATH": str(E2E), "LEGATO_DB": f"sqlite:///{tmp_path / 'dev.db'}",
           "COLUMNS": "250", **API_ON}  # fmt: skip
    dev = processes.spawn("dev", [*LEGATO, "dev", "cli_app"], env=env)
    found: list[str] = []

    async def serving() -> bool:
        if dev.poll() is not None:
            pytest.fail(f"legato dev exited:\n{processes.log_of(dev)}")
        found[:] = SERVING.findall(" ".join(processes.log_of(dev).split()))
        return bool(found)

    await wait_for(serving)
    async with httpx.AsyncClient(base_url=found[0], timeout=30) as client:
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        started = await client.post(
            "/v1/executions",
            json={"workflow": "adder", "args": [41], "labels": {"team": "api"}},
        )
        assert started.status_code == 201, started.text
        eid = started.json()["id"]
        done = await client.get(f"/v1/executions/{eid}", params={"wait": 20})
        assert done.json()["status"] == "COMPLETED" and done.json()["output"] == 42
        listed = await client.get("/v1/executions", params={"label": "team=api"})
        assert [e["id"] for e in listed.json()["items"]] == [eid]
        invalid = await client.post("/v1/executions", json={"workflow": "adder", "args": ["x"]})
        assert invalid.status_code == 422
        assert invalid.json()["errors"][0]["path"] == "$.args[0]"

        await client.post("/v1/executions", json={"workflow": "waiter", "id": "w", "args": ["t"]})
        sent = await client.post("/v1/executions/w/signals/go", json={"payload": 5})
        assert sent.status_code == 202
        waited = await client.get("/v1/executions/w", params={"wait": 20})
        assert waited.json()["output"] == {"tag": "t", "got": 5}
        workflows = (await client.get("/v1/workflows")).json()["items"]
        assert {"adder", "waiter", "stubborn"} <= {w["name"] for w in workflows}
