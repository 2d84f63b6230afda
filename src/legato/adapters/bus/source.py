"""What every broker consumer shares: its URL's options, and the loop that reads a batch,
hands it to ``ingest`` and acknowledges it only once ``ingest`` has returned.

The guarantee the loop keeps: a message is acknowledged only after the start it causes has
committed (``ingest`` returns only then). When ``ingest`` raises (the database cannot be
written) the batch is given back unacknowledged and the loop backs off; when the broker goes
away the loop connects again with backoff, and the broker delivers again whatever was not
acknowledged. A message may so be delivered twice; the events table's (source, id) key makes
the second delivery a duplicate that starts nothing.

Each driver (``nats.py``, ``redis_streams.py``, ``rabbitmq.py``) implements five moves:
connect, fetch a batch (waiting a bounded time), ack a batch, give a batch back, close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from legato.core.backoff import RECONNECT, Backoff
from legato.errors import ConfigurationError

log = logging.getLogger("legato.events")

#: ``ingest(bodies, via)``: record a batch of raw events in one transaction (``App.ingest_events``);
#: returns once it committed, raises when it could not.
Ingest = Callable[[Sequence[bytes], str], Awaitable[object]]
M = TypeVar("M")

DEFAULT_BATCH = 256
DEFAULT_WAIT_MS = 1_000  # a fetch waits this long at most: how soon a stop is noticed


@dataclass(frozen=True)
class SourceUrl:
    """An event source's URL split into the driver's own URL and Legato's options (the query
    parameters Legato reads, taken out of it)."""

    url: str  # as given, for messages
    driver_url: str  # without Legato's options (the rest of the query stays for the driver)
    scheme: str
    options: dict[str, str]

    @classmethod
    def parse(cls, url: str, ours: Sequence[str], *, driver_query: bool) -> SourceUrl:
        """``ours``: the option names this kind of source reads. ``driver_query``: the driver
        reads other query parameters itself (else an unknown one is an error)."""
        parts = urlsplit(url)
        options: dict[str, str] = {}
        rest: list[tuple[str, str]] = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in ours:
                options[key] = value
            else:
                rest.append((key, value))
        if rest and not driver_query:
            unknown = ", ".join(sorted({k for k, _ in rest}))
            raise ConfigurationError(
                f"event source {redact(url)}: unknown option {unknown} (known: {', '.join(ours)})"
            )
        driver_url = urlunsplit(parts._replace(query=urlencode(rest)))
        return cls(url, driver_url, parts.scheme, options)

    def text(self, name: str, default: str) -> str:
        value = self.options.get(name, default)
        if not value:
            raise ConfigurationError(f"event source {redact(self.url)}: {name} is empty")
        return value

    def number(self, name: str, default: int, *, least: int = 1) -> int:
        raw = self.options.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = least - 1
        if value < least:
            raise ConfigurationError(
                f"event source {redact(self.url)}: {name} must be an integer >= {least}, "
                f"not {raw!r}"
            )
        return value


def redact(url: str) -> str:
    """The URL without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}{port}"))


@dataclass
class Batch(Generic[M]):
    """Messages fetched together: their bodies for ``ingest``, the driver's handles to ack."""

    bodies: list[bytes] = field(default_factory=list)
    messages: list[M] = field(default_factory=list)

    def add(self, body: bytes, message: M) -> None:
        self.bodies.append(body)
        self.messages.append(message)


@dataclass
class Counters:
    """What a source has done, for logs, tests and the benchmark."""

    batches: int = 0
    messages: int = 0
    ingest_failures: int = 0
    reconnects: int = 0


class EventSource(ABC, Generic[M]):
    """One consumer of one broker: ``start(ingest)`` runs it in the background until
    ``stop()``. Subclasses implement the driver moves."""

    kind: str = ""

    def __init__(self, source: SourceUrl, *, backoff: Backoff = RECONNECT) -> None:
        self.source = source
        self.batch_size = source.number("batch", DEFAULT_BATCH)
        self.wait_seconds = source.number("wait_ms", DEFAULT_WAIT_MS) / 1000
        self.backoff = backoff
        self.counters = Counters()
        self.connected = asyncio.Event()  # for tests and logs: a consumer is attached
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._random = random.Random()

    # --- the driver ---------------------------------------------------------------------------
    @property
    @abstractmethod
    def via(self) -> str:
        """Where the events came from, as the events table records it (``redis:STREAM``)."""

    @abstractmethod
    async def connect(self) -> None:
        """Connect, and create what is missing (stream, group, consumer, queue)."""

    @abstractmethod
    async def fetch(self) -> Batch[M]:
        """Up to ``batch_size`` messages; an empty batch after waiting ``wait_seconds``."""

    @abstractmethod
    async def ack(self, batch: Batch[M]) -> None:
        """The batch is recorded: the broker may forget it."""

    @abstractmethod
    async def give_back(self, batch: Batch[M]) -> None:
        """The batch could not be recorded: the broker is to deliver it again."""

    @abstractmethod
    async def close(self) -> None:
        """Disconnect; unacknowledged messages are the broker's to deliver again."""

    # --- running --------------------------------------------------------------------------------
    def start(self, ingest: Ingest) -> None:
        if self._task is not None:
            raise ConfigurationError(f"event source {self.describe()} is already running")
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(
            self._run(ingest), name=f"legato event source {self.describe()}"
        )

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Fetch nothing more; the batch in hand is recorded and acknowledged (waiting up to
        ``grace_seconds``, then it is dropped unacknowledged: the broker delivers it again)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({task}, timeout=grace_seconds)
        if not done:
            log.warning(
                "event source %s: the batch in hand was not recorded within %gs; dropped "
                "unacknowledged, the broker will deliver it again",
                self.describe(),
                grace_seconds,
            )
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif (error := task.exception()) is not None:
            log.error("event source %s had stopped: %r", self.describe(), error)
        with contextlib.suppress(Exception):
            await self.close()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def describe(self) -> str:
        return redact(self.source.url)

    async def _run(self, ingest: Ingest) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self.connect()
                self.connected.set()
                log.info("consuming events from %s (%s)", self.describe(), self.via)
                failures = 0
                await self._consume(ingest)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away, or refused a move
                self.connected.clear()
                failures += 1
                self.counters.reconnects += 1
                delay = self.backoff.delay(failures, self._random.random())
                log.warning(
                    "event source %s: %s: %s; connecting again in %.1fs",
                    self.describe(),
                    type(exc).__name__,
                    exc,
                    delay,
                )
                with contextlib.suppress(Exception):
                    await self.close()
                await self._pause(delay)
        self.connected.clear()
        await self.close()
        log.info("stopped consuming events from %s", self.describe())

    async def _consume(self, ingest: Ingest) -> None:
        failures = 0
        while not self._stopping.is_set():
            batch = await self.fetch()
            if not batch.messages:
                continue
            if batch.bodies:
                try:
                    await ingest(batch.bodies, self.via)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # not recorded: not acknowledged
                    failures += 1
                    self.counters.ingest_failures += 1
                    delay = self.backoff.delay(failures, self._random.random())
                    log.warning(
                        "event source %s: %d events not recorded (%s: %s); given back to the "
                        "broker, trying again in %.1fs",
                        self.describe(),
                        len(batch.bodies),
                        type(exc).__name__,
                        exc,
                        delay,
                    )
                    await self.give_back(batch)
                    await self._pause(delay)
                    continue
            failures = 0
            await self.ack(batch)
            self.counters.batches += 1
            self.counters.messages += len(batch.messages)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
