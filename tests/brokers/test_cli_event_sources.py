"""``legato dev --event-source URL``: the process consumes the broker while it runs (an event
published twice starts one execution), says so in its log, and on SIGTERM stops consuming
first and exits 0 with nothing left unacknowledged. A URL it cannot use is one red line."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import legato
from legato.cli.main import app_cli
from tests.brokers.brokers import Broker
from tests.brokers.recording import drained
from tests.conftest import poll
from tests.processes import Processes

pytestmark = pytest.mark.timeout(180)
HERE = Path(__file__).parent
LEGATO = [sys.executable, "-m", "legato.cli"]


def _client(url: str) -> legato.App:
    sys.path.insert(0, str(HERE))
    try:
        import event_app  # type: ignore[import-not-found]  # loaded from this folder
    finally:
        sys.path.remove(str(HERE))
    app: legato.App = event_app.app
    app.configure(url=url)
    return app


def _event(n: int) -> bytes:
    body = {"id": f"order-{n}", "source": "shop", "type": "order.placed", "data": {"order": n}}
    return json.dumps(body).encode()


async def test_legato_dev_consumes_an_event_source_and_stops_first(
    broker: Broker, db_url: str, processes: Processes
) -> None:
    client = _client(db_url)
    await client.create_subscription("orders", "order.placed", "on_order")
    env = {"PYTHONPATH": str(HERE), "COLUMNS": "250"}
    args = [*LEGATO, "dev", "event_app", "--db", db_url, "--event-source", broker.url(wait_ms=200)]
    proc = processes.spawn("dev", args, env=env)

    async def consuming() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"legato dev exited:\n{processes.log_of(proc)}")
        return "consuming events from" in " ".join(processes.log_of(proc).split())

    await poll(consuming, limit=60)
    await broker.publish([_event(1), _event(2), _event(1)])

    async def both_completed() -> bool:
        rows = await client.list_executions(legato.Status.COMPLETED, workflow="on_order")
        return len(rows) >= 2

    await poll(both_completed, limit=60)
    await drained(broker)
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(proc.wait, 60)
    log = " ".join(processes.log_of(proc).split())
    assert code == 0, log
    assert "stopped consuming events from" in log
    assert len(await client.list_executions(workflow="on_order")) == 2
    await client.shutdown()


def test_a_url_no_driver_takes_is_one_red_line(db_path: Path) -> None:
    result = CliRunner().invoke(
        app_cli,
        ["dev", "legato.examples.orders", "--db", f"sqlite:///{db_path}",
         "--event-source", "kafka://127.0.0.1:9092"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "unknown scheme" in result.stderr + result.stdout
