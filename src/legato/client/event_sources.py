"""The event sources an app consumes while its engine runs (``app.event_source(url)``,
``--event-source``, ``LEGATO_EVENT_SOURCES``): each a broker consumer
(``legato.adapters.bus``) whose batches go to ``App.ingest_events``.

They start once the engine runs (so what they start is picked up at once) and stop before it
(``App.shutdown``, SIGTERM): no more fetching, the batch in hand recorded and acknowledged,
then the connection closed. A URL is checked when it is declared, so a typo fails the start-up
rather than a background task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from legato.adapters.bus import EventSource, Ingest, open_source
from legato.adapters.bus.source import redact

log = logging.getLogger("legato.events")


class EventSources:
    def __init__(self) -> None:
        self.urls: list[str] = []
        self.running: list[EventSource[Any]] = []

    def add(self, url: str) -> None:
        """Declare a source (``ConfigurationError`` for a URL no driver takes); the same URL
        twice is one source."""
        open_source(url)  # checked now
        if url not in self.urls:
            self.urls.append(url)

    def extend(self, urls: Iterable[str]) -> None:
        for url in urls:
            self.add(url)

    def start(self, ingest: Ingest) -> None:
        for url in self.urls:
            source = open_source(url)
            source.start(ingest)
            self.running.append(source)
        if self.urls:
            log.info("event sources: %s", ", ".join(redact(u) for u in self.urls))

    async def stop(self, grace_seconds: float) -> None:
        running, self.running = self.running, []
        await asyncio.gather(*(source.stop(grace_seconds) for source in running))
