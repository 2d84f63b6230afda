"""NATS JetStream: a durable pull consumer on a stream's subjects.

``nats://[USER:PASS@]HOST:PORT?stream=LEGATO&subjects=events.>&durable=legato``; also
``batch`` (messages fetched at once, 256), ``wait_ms`` (how long a fetch waits, 1000) and
``ack_wait_ms`` (how long JetStream waits for an ack before it delivers a message again,
30000). ``subjects`` is comma-separated. The stream is created (file storage) with those
subjects if missing, the durable consumer (explicit acks, deliver all) likewise; an existing
stream is used as it is. With one subject the consumer is filtered on it; with several it
reads the whole stream (NATS before 2.10 filters on one subject only).

Every message is acked on its own (``AckExplicit``): replicas may share the durable
consumer, so acking "all up to here" could ack another replica's messages. nats-py's own
reconnection is off: a dropped connection ends the fetch loop, and ``EventSource`` connects
again with backoff (a restarted server still has the stream and the consumer's state).
"""

from __future__ import annotations

import logging

import nats
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

from legato.adapters.bus.source import Batch, EventSource, SourceUrl, log

OPTIONS = ("stream", "subjects", "durable", "batch", "wait_ms", "ack_wait_ms")
driver_log = logging.getLogger("legato.events.nats")


class NatsSource(EventSource[Msg]):
    kind = "nats"

    def __init__(self, url: str) -> None:
        source = SourceUrl.parse(url, OPTIONS, driver_query=False)
        super().__init__(source)
        self.stream = source.text("stream", "LEGATO")
        self.subjects = [s.strip() for s in source.text("subjects", "events.>").split(",")]
        self.durable = source.text("durable", "legato")
        self.ack_wait = source.number("ack_wait_ms", 30_000) / 1000
        self._nc: NatsClient | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    @property
    def via(self) -> str:
        return f"nats:{','.join(self.subjects)}"

    async def connect(self) -> None:
        async def quiet(error: Exception) -> None:  # the fetch loop reports what matters
            driver_log.debug("nats: %r", error)

        self._nc = await nats.connect(
            self.source.driver_url,
            name=f"legato events {self.durable}",
            allow_reconnect=False,
            connect_timeout=5,
            error_cb=quiet,
        )
        js = self._nc.jetstream()
        try:
            await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(StreamConfig(name=self.stream, subjects=self.subjects))
            log.info("created JetStream stream %s on %s", self.stream, ", ".join(self.subjects))
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            max_ack_pending=max(1_000, 4 * self.batch_size),
        )
        if len(self.subjects) == 1:
            config.filter_subject = self.subjects[0]
        try:
            await js.consumer_info(self.stream, self.durable)
        except nats.js.errors.NotFoundError:
            await js.add_consumer(self.stream, config)
        self._sub = await js.pull_subscribe_bind(durable=self.durable, stream=self.stream)

    async def fetch(self) -> Batch[Msg]:
        nc, sub = self._nc, self._sub
        if nc is None or sub is None or not nc.is_connected:
            raise ConnectionError("the connection to NATS is closed")
        batch: Batch[Msg] = Batch()
        try:
            messages = await sub.fetch(self.batch_size, timeout=self.wait_seconds)
        except TimeoutError:  # nats.errors.TimeoutError, FetchTimeoutError: nothing came
            if not nc.is_connected:
                raise ConnectionError("the connection to NATS was lost") from None
            return batch
        for message in messages:
            batch.add(message.data, message)
        return batch

    async def ack(self, batch: Batch[Msg]) -> None:
        for message in batch.messages:
            await message.ack()
        await self._flush()

    async def give_back(self, batch: Batch[Msg]) -> None:
        for message in batch.messages:
            await message.nak()
        await self._flush()

    async def _flush(self) -> None:
        """Acks are buffered publishes: sent before the next fetch can take its time."""
        if self._nc is not None:
            await self._nc.flush(timeout=5)

    async def close(self) -> None:
        nc, self._nc, self._sub = self._nc, None, None
        if nc is not None and not nc.is_closed:
            await nc.close()
