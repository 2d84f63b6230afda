"""A recording ``ingest`` (the signature of ``App.ingest_events``) and the waits the broker
tests share."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from legato.adapters.bus import EventSource, open_source
from legato.core.backoff import Backoff
from legato.errors import DatabaseUnavailableError
from tests.brokers.brokers import Broker
from tests.conftest import poll

QUICK = Backoff(initial=0.05, factor=2.0, cap=0.5, jitter=True)


def events(count: int, tag: str = "e") -> list[bytes]:
    return [
        json.dumps({"id": f"{tag}-{n}", "source": "test", "type": "t", "data": n}).encode()
        for n in range(count)
    ]


class Recorder:
    """``ingest`` that records what it was given; ``refuse`` calls raise as a database that
    cannot be written; ``gate``, when set, holds each call (once ``hold_from`` bodies are
    recorded) until it is opened."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.vias: set[str] = set()
        self.calls = 0
        self.refuse = 0
        self.refused: list[bytes] = []
        self.gate: asyncio.Event | None = None
        self.hold_from = 0
        self.entered = asyncio.Event()
        self.held = asyncio.Event()

    async def __call__(self, bodies: Sequence[bytes], via: str) -> list[Any]:
        self.calls += 1
        self.entered.set()
        if self.gate is not None and len(self.bodies) >= self.hold_from:
            self.held.set()
            await self.gate.wait()
        if self.refuse:
            self.refuse -= 1
            self.refused.extend(bodies)
            raise DatabaseUnavailableError("the test's database is down")
        self.bodies.extend(bodies)
        self.vias.add(via)
        return []

    def ids(self) -> set[str]:
        return {json.loads(b)["id"] for b in self.bodies}


def started(url: str, ingest: Recorder) -> EventSource[Any]:
    source = open_source(url)
    source.backoff = QUICK
    source.start(ingest)
    return source


def received(recorder: Recorder, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(recorder.ids()) >= count

    return check


async def drained(broker: Broker) -> None:
    async def nothing_left() -> bool:
        return await broker.unacknowledged() == 0

    await poll(nothing_left, limit=30)
