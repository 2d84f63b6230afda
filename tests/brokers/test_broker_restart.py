"""A broker restarted mid-stream loses no event: a NATS server, a Redis server and a RabbitMQ
node of the test's own (a free port, data in tmp_path; the shared ones are left alone) are
stopped and started again while a consumer reads; every event published before and after
reaches ingest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.brokers.brokers import BROKERS, Broker, PrivateServer, require
from tests.brokers.recording import Recorder, drained, events, received, started
from tests.conftest import poll
from tests.processes import Processes


@pytest.fixture(params=["nats", "redis", "rabbitmq"])
async def private(
    request: pytest.FixtureRequest, tmp_path: Path, processes: Processes
) -> AsyncIterator[tuple[PrivateServer, Broker]]:
    kind: str = request.param
    require(kind)  # the binaries are the shared service's; CI requires them
    server = PrivateServer(kind, tmp_path / f"{kind}-data", processes)
    await server.start()
    broker = BROKERS[kind](port=server.port)
    try:
        yield server, broker
    finally:
        await broker.cleanup()
        await server.stop()


async def test_a_restarted_broker_loses_no_event(
    private: tuple[PrivateServer, Broker],
) -> None:
    server, broker = private
    recorder = Recorder()
    recorder.gate, recorder.hold_from = asyncio.Event(), 50
    source = started(broker.url(batch=25, wait_ms=200), recorder)
    try:
        await asyncio.wait_for(source.connected.wait(), 30)
        await broker.publish(events(200, "before"))
        await asyncio.wait_for(recorder.held.wait(), 30)
        # mid-stream: a batch in hand (its ack will find the connection gone), the rest of
        # "before" not consumed yet
        await server.restart()
        recorder.gate.set()
        await broker.publish(events(200, "after"))
        await poll(received(recorder, 400), limit=60)
        # the batch whose ack the restart lost is delivered again, recorded again, acked
        await drained(broker)
    finally:
        await source.stop()
    expected = {f"{tag}-{n}" for tag in ("before", "after") for n in range(200)}
    assert recorder.ids() == expected
    assert source.counters.reconnects >= 1
