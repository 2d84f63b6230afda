"""RabbitMQ: a durable queue consumed with manual acks and a prefetch window.

``amqp://USER:PASS@HOST:PORT/VHOST?queue=legato-events``; also ``prefetch`` (unacknowledged
messages the broker sends ahead, default 4 × ``batch``), ``linger_ms`` (how long a batch that
is not full waits for more messages, default 25), ``batch`` and ``wait_ms``. Other query
parameters are aio-pika's (``heartbeat``...). The queue is declared durable (created if
missing); publish to it by its name on the default exchange, or bind it to an exchange.

The broker pushes messages into a buffer; a batch is what has arrived (up to ``batch``), so
while one batch is recorded the next gathers. A batch that is not full waits ``linger_ms``
from its first message for more: an ingest costs several milliseconds whatever its size, so
batches of a few messages would cap a busy queue far below what larger ones reach.

A batch is acked (or, when it could not be recorded, nacked back into the queue) with one
``multiple`` frame up to its last delivery tag: one consumer owns this channel and handles
its deliveries in order, so that is exactly the batch. aio-pika's robust reconnection is not
used (a delivery tag of the old channel acked on a new one is a channel error): a lost
connection ends the fetch loop, the broker requeues what was not acked, and ``EventSource``
connects again with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from legato.adapters.bus.source import Batch, EventSource, SourceUrl

OPTIONS = ("queue", "prefetch", "linger_ms", "batch", "wait_ms")


class RabbitMqSource(EventSource[AbstractIncomingMessage]):
    kind = "rabbitmq"

    def __init__(self, url: str) -> None:
        source = SourceUrl.parse(url, OPTIONS, driver_query=True)
        super().__init__(source)
        self.queue = source.text("queue", "legato-events")
        self.prefetch = source.number("prefetch", 4 * self.batch_size)
        self.linger_seconds = source.number("linger_ms", 25, least=0) / 1000
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._arrived: list[AbstractIncomingMessage] = []
        self._wake = asyncio.Event()  # a message arrived (or the connection was lost)
        self._filled = asyncio.Event()  # a whole batch arrived (or the connection was lost)
        self._lost: BaseException | None = None

    @property
    def via(self) -> str:
        return f"rabbitmq:{self.queue}"

    async def connect(self) -> None:
        self._arrived = []
        self._lost = None
        self._wake.clear()
        self._filled.clear()
        connection = await aio_pika.connect(
            self.source.driver_url,
            timeout=5,
            client_properties={"connection_name": f"legato events {self.queue}"},
        )
        self._connection = connection
        connection.close_callbacks.add(self._on_close)
        channel = await connection.channel(publisher_confirms=False)
        self._channel = channel
        channel.close_callbacks.add(self._on_close)
        await channel.set_qos(prefetch_count=self.prefetch)
        queue = await channel.declare_queue(self.queue, durable=True)
        await queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._arrived.append(message)
        self._wake.set()
        if len(self._arrived) >= self.batch_size:
            self._filled.set()

    def _on_close(self, _sender: Any, exc: BaseException | None = None) -> None:
        if self._lost is None:
            self._lost = exc or ConnectionError("the RabbitMQ connection was closed")
        self._wake.set()
        self._filled.set()

    async def fetch(self) -> Batch[AbstractIncomingMessage]:
        if not self._arrived and self._lost is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.wait_seconds)
        if self._arrived and len(self._arrived) < self.batch_size and self.linger_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._filled.wait(), self.linger_seconds)
        if self._lost is not None:
            raise ConnectionError(f"the RabbitMQ connection was lost: {self._lost!r}")
        taken = self._arrived[: self.batch_size]
        del self._arrived[: len(taken)]
        if not self._arrived:
            self._wake.clear()
        if len(self._arrived) < self.batch_size:
            self._filled.clear()
        batch: Batch[AbstractIncomingMessage] = Batch()
        for message in taken:
            batch.add(message.body, message)
        return batch

    async def ack(self, batch: Batch[AbstractIncomingMessage]) -> None:
        await batch.messages[-1].ack(multiple=True)

    async def give_back(self, batch: Batch[AbstractIncomingMessage]) -> None:
        await batch.messages[-1].nack(multiple=True, requeue=True)

    async def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._arrived = []  # unacknowledged: the broker requeues them when the channel closes
        if connection is not None and not connection.is_closed:
            self._lost = self._lost or ConnectionError("closed")
            await connection.close()
