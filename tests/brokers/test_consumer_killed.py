"""A consumer killed between its commit and its ack (SIGKILL of ``legato dev``): the broker
delivers the batch again to the next process (NATS after ``ack_wait_ms``, Redis by
``XAUTOCLAIM`` once idle ``claim_idle_ms``, RabbitMQ as soon as the connection is gone), which
finds every event recorded and starts nothing more: each event started its workflow once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import legato
from tests.brokers.brokers import Broker
from tests.brokers.recording import drained
from tests.conftest import poll
from tests.processes import Processes

pytestmark = pytest.mark.timeout(180)
HERE = Path(__file__).parent
LEGATO = [sys.executable, "-m", "legato.cli"]
EVENTS = 30


def _client(url: str) -> legato.App:
    sys.path.insert(0, str(HERE))
    try:
        import stalling_app  # type: ignore[import-not-found]  # loaded from this folder
    finally:
        sys.path.remove(str(HERE))
    app: legato.App = stalling_app.app
    app.configure(url=url)
    return app


def _event(n: int) -> bytes:
    body = {"id": f"order-{n}", "source": "shop", "type": "order.placed", "data": {"order": n}}
    return json.dumps(body).encode()


async def test_a_consumer_killed_before_its_ack_starts_nothing_twice(
    broker: Broker, db_url: str, processes: Processes, tmp_path: Path
) -> None:
    client = _client(db_url)
    await client.create_subscription("orders", "order.placed", "on_order")
    marker = tmp_path / "stalled"
    env = {"PYTHONPATH": str(HERE), "COLUMNS": "250", "STALL_MARKER": str(marker)}
    url = (
        broker.url(wait_ms=200, claim_idle_ms=500)
        if broker.kind == "redis"
        else broker.url(wait_ms=200)
    )
    args = [*LEGATO, "dev", "stalling_app", "--db", db_url, "--event-source", url]
    await broker.publish([_event(n) for n in range(EVENTS)])
    first = processes.spawn("dev", args, env=env)

    async def stalled() -> bool:
        if first.poll() is not None:
            pytest.fail(f"legato dev exited:\n{processes.log_of(first)}")
        return marker.exists() and marker.read_text().endswith("\n")

    await poll(stalled, limit=60)
    recorded = marker.read_text().split()
    assert int(recorded[0]) > 0 and set(recorded[1:]) == {"started"}, recorded
    processes.kill(first)  # committed, not acknowledged

    second = processes.spawn("dev", args, env=env)

    async def all_started() -> bool:
        if second.poll() is not None:
            pytest.fail(f"legato dev exited:\n{processes.log_of(second)}")
        return len(await client.list_executions(workflow="on_order", limit=1000)) >= EVENTS

    await poll(all_started, limit=60)
    await drained(broker)  # the batch delivered again was acknowledged this time
    rows = await client.list_executions(workflow="on_order", limit=1000)
    assert len(rows) == EVENTS
    assert all(row.started_by and row.started_by["kind"] == "event" for row in rows)
    await client.shutdown()
