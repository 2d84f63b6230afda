"""Redis Streams: a consumer group read with XREADGROUP, each batch XACKed once recorded.

``redis://[:PASS@]HOST:PORT/DB?stream=legato-events&group=legato``; also ``consumer`` (this
consumer's name, default ``HOST-PID-NONCE``: a new one each start), ``field`` (the entry field
holding the event's JSON, default ``event``; an entry without it is passed on as its fields
in JSON, which ingest dead-letters unless they make an event), ``claim_idle_ms`` (an entry
another consumer has held unacknowledged this long is claimed with XAUTOCLAIM, default
60000), ``batch`` and ``wait_ms``. Other query parameters are redis-py's. The group is created
(with the stream, from its first entry) if missing.

Entries read but not acknowledged stay in the group's pending list: this consumer reads its
own again (from ``0``) after a reconnect or a failed ingest, and a consumer that died leaves
them to whoever claims them once idle. A stopped consumer with nothing pending is removed
from the group.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from legato.adapters.bus.source import Batch, EventSource, SourceUrl, log

OPTIONS = ("stream", "group", "consumer", "field", "claim_idle_ms", "batch", "wait_ms")
Entry = tuple[bytes, dict[bytes, bytes] | None]


class RedisStreamSource(EventSource[bytes]):
    kind = "redis"

    def __init__(self, url: str) -> None:
        source = SourceUrl.parse(url, OPTIONS, driver_query=True)
        super().__init__(source)
        self.stream = source.text("stream", "legato-events")
        self.group = source.text("group", "legato")
        default_consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.consumer = source.text("consumer", default_consumer)
        self.field = source.text("field", "event").encode()
        self.claim_idle_ms = source.number("claim_idle_ms", 60_000)
        self._redis: aioredis.Redis | None = None
        self._own_pending = True  # read this consumer's unacknowledged entries first
        self._claim_at = 0.0  # loop time of the next XAUTOCLAIM
        self._claim_cursor = "0-0"

    @property
    def via(self) -> str:
        return f"redis:{self.stream}"

    async def connect(self) -> None:
        client = aioredis.Redis.from_url(self.source.driver_url, socket_connect_timeout=5)
        self._redis = client
        try:
            await client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            log.info("created Redis consumer group %s on stream %s", self.group, self.stream)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._own_pending = True
        self._claim_at = 0.0
        self._claim_cursor = "0-0"

    async def fetch(self) -> Batch[bytes]:
        client = self._redis
        if client is None:
            raise ConnectionError("not connected to Redis")
        now = asyncio.get_running_loop().time()
        if now >= self._claim_at:
            batch = await self._claim(client)
            if batch.messages:
                return batch
            self._claim_at = now + self.claim_idle_ms / 2000
        if self._own_pending:
            batch = await self._read(client, "0", block=None)
            if batch.messages:
                return batch
            self._own_pending = False
        return await self._read(client, ">", block=int(self.wait_seconds * 1000))

    async def _claim(self, client: aioredis.Redis) -> Batch[bytes]:
        """Entries other consumers left unacknowledged for ``claim_idle_ms``, now this one's."""
        reply = await client.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id=self._claim_cursor,
            count=self.batch_size,
        )
        cursor, entries = reply[0], reply[1]
        self._claim_cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        if self._claim_cursor != "0-0":
            self._claim_at = 0.0  # more to look at: on the next fetch
        if entries:
            log.info(
                "claimed %d entries of stream %s other consumers left unacknowledged",
                len(entries),
                self.stream,
            )
        return self._batch(entries)

    async def _read(self, client: aioredis.Redis, start: str, block: int | None) -> Batch[bytes]:
        reply: Any = await client.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=self.batch_size, block=block
        )
        entries: list[Entry] = []
        for _stream, stream_entries in reply or []:
            entries.extend(stream_entries)
        return self._batch(entries)

    def _batch(self, entries: list[Entry]) -> Batch[bytes]:
        batch: Batch[bytes] = Batch()
        for entry_id, fields in entries:
            if not fields:  # trimmed away while pending: nothing to record, only to ack
                batch.messages.append(entry_id)
                continue
            body = fields.get(self.field)
            if body is None:
                text = {
                    k.decode(errors="replace"): v.decode(errors="replace")
                    for k, v in fields.items()
                }
                body = json.dumps(text).encode()
            batch.add(body, entry_id)
        return batch

    async def ack(self, batch: Batch[bytes]) -> None:
        if self._redis is None:
            raise ConnectionError("not connected to Redis")
        await self._redis.xack(self.stream, self.group, *batch.messages)

    async def give_back(self, batch: Batch[bytes]) -> None:
        self._own_pending = True  # they stay pending: read them again

    async def close(self) -> None:
        client, self._redis = self._redis, None
        if client is None:
            return
        try:
            if self._stopping.is_set():  # a stop (not a reconnect): leave if nothing is pending
                pending: Any = await client.xpending_range(
                    self.stream, self.group, min="-", max="+", count=1, consumername=self.consumer
                )
                if not pending:
                    await client.xgroup_delconsumer(self.stream, self.group, self.consumer)
        except Exception:  # the broker is gone: nothing to tidy
            pass
        finally:
            await client.aclose()
