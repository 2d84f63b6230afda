"""Each broker consumer's plumbing, on the real brokers with a recording ``ingest`` of the same
signature as ``App.ingest_events``: batches are fetched and acknowledged only after ingest
returns; a batch ingest refused is delivered again; a stop records and acks the batch in hand;
a connection cut (the broker gone for a while) is ridden through without losing a message."""

from __future__ import annotations

import asyncio
import json

from tests.brokers.brokers import Broker
from tests.brokers.recording import Recorder, drained, events, received, started
from tests.conftest import poll
from tests.tcp_proxy import CuttableProxy


async def test_batches_are_ingested_then_acknowledged(broker: Broker) -> None:
    await broker.publish(events(600))
    recorder = Recorder()
    source = started(broker.url(batch=100, wait_ms=200), recorder)
    try:
        await poll(received(recorder, 600), limit=30)
        await drained(broker)
    finally:
        await source.stop()
    assert recorder.ids() == {f"e-{n}" for n in range(600)}
    assert recorder.vias == {source.via}
    assert recorder.calls < 600  # batched: more than one message per ingest
    assert source.counters.messages >= 600


async def test_a_refused_batch_is_delivered_again(broker: Broker) -> None:
    recorder = Recorder()
    recorder.refuse = 2
    source = started(broker.url(batch=50, wait_ms=200), recorder)
    try:
        await broker.publish(events(120))
        await poll(received(recorder, 120), limit=30)
        await drained(broker)
    finally:
        await source.stop()
    assert recorder.refused, "ingest was refused at least once"
    assert {json.loads(b)["id"] for b in recorder.refused} <= recorder.ids()
    assert source.counters.ingest_failures == 2


async def test_a_stop_records_and_acknowledges_the_batch_in_hand(broker: Broker) -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    source = started(broker.url(batch=500, wait_ms=200), recorder)
    await broker.publish(events(20))
    await asyncio.wait_for(recorder.entered.wait(), 30)
    stopping = asyncio.ensure_future(source.stop())
    await asyncio.sleep(0)  # the stop is asked for while ingest holds the batch
    recorder.gate.set()
    await stopping
    assert recorder.bodies, "the batch in hand was recorded"
    held = len(recorder.ids())

    async def rest_unacknowledged() -> bool:  # RabbitMQ requeues the rest as the channel closes
        return await broker.unacknowledged() == 20 - held

    # what was recorded was acknowledged: the broker holds only what came after the batch
    await poll(rest_unacknowledged, limit=30)


async def test_a_lost_connection_is_ridden_through(broker: Broker) -> None:
    proxy = CuttableProxy(broker.host, broker.port)
    port = await proxy.start()
    recorder = Recorder()
    options: dict[str, str | int] = {"batch": 20, "wait_ms": 200}
    source = started(broker.url(port=port, **options), recorder)
    try:
        await asyncio.wait_for(source.connected.wait(), 30)
        await broker.publish(events(100, "a"))
        await poll(received(recorder, 30), limit=30)
        proxy.cut()
        await broker.publish(events(100, "b"))  # published while the consumer is cut off
        await poll(lambda: _true(not source.connected.is_set() or proxy.refused > 0), limit=30)
        proxy.restore()
        await poll(received(recorder, 200), limit=60)
        await drained(broker)  # what a lost ack left pending is delivered again and acked
    finally:
        await source.stop()
        await proxy.close()
    assert recorder.ids() == {f"{t}-{n}" for t in "ab" for n in range(100)}
    assert source.counters.reconnects >= 1


async def _true(value: bool) -> bool:
    return value
