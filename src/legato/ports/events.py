"""Port: events that start workflows, the subscriptions that say which, and the dead letters.

``ingest`` records a whole batch in one transaction: each event not seen before (the durable
dedupe is the events table's key, ``(source, id)``) with the executions its subscriptions
start, and the dead letters (bodies that are not events; an event's filter or transform that
failed). A batch commits whole or not at all, so a broker consumer acknowledges its messages
only after ``ingest`` returned: a crash in between redelivers them, and the dedupe makes the
redelivery a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from legato.core import codec
from legato.core.durations import instant
from legato.core.subscriptions import Subscription
from legato.core.transition import NewExecution

IngestStatus = Literal["started", "duplicate", "no_match", "dead_letter"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one body of a batch did. ``started``: it started ``execution_ids`` (a subscription
    whose filter or transform failed is a dead letter as well, said in ``reason``);
    ``duplicate``: its ``(source, id)`` was seen before (or earlier in the batch), nothing
    started; ``no_match``: recorded, no subscription wanted it; ``dead_letter``: not an event,
    or every subscription it matched failed on it (``reason`` says which and why)."""

    status: IngestStatus
    event_id: str | None
    source: str | None
    execution_ids: list[str] = field(default_factory=list)
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "source": self.source, "id": self.event_id,
                "execution_ids": self.execution_ids, "reason": self.reason}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A body that could not be acted on, kept with the reason (never dropped silently)."""

    id: str
    received_at: int  # epoch ms
    via: str
    reason: str
    body: str
    subscription: str | None = None
    event_source: str | None = None
    event_id: str | None = None
    redriven_at: int | None = None  # epoch ms; None: not redriven
    redriven_to: list[str] | None = None  # the executions its redrive started

    def as_json(self) -> dict[str, Any]:
        redriven = None if self.redriven_at is None else instant(self.redriven_at).isoformat()
        return {"id": self.id, "received_at": instant(self.received_at).isoformat(),
                "via": self.via, "reason": self.reason, "body": self.body,
                "subscription": self.subscription, "event_source": self.event_source,
                "event_id": self.event_id, "redriven_at": redriven,
                "redriven_to": self.redriven_to}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as recorded; ``data`` is its JSON text, ``execution_ids`` what it started."""

    source: str
    id: str
    type: str
    subject: str | None
    time: str | None
    data: str
    received_at: int
    via: str
    execution_ids: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "id": self.id, "type": self.type,
                "subject": self.subject, "time": self.time, "data": codec.loads(self.data),
                "received_at": instant(self.received_at).isoformat(), "via": self.via,
                "execution_ids": self.execution_ids}  # fmt: skip


@dataclass(frozen=True, slots=True)
class EventIngest:
    """One new-looking event of a batch: its row, the executions it starts and the dead
    letters of the subscriptions that failed on it; all written only if the event is new."""

    event: StoredEvent
    starts: list[NewExecution]
    failures: list[DeadLetter]


class Ingested(NamedTuple):
    """What a batch wrote: per event, whether it was new; the executions it started."""

    new: list[bool]
    started: list[str]


class IngestRaced(Exception):
    """An execution id the batch was about to start was started by another transaction in the
    meantime: the batch rolled back, and is retried (it then finds that execution)."""


class Events(Protocol):
    async def ingest(self, events: list[EventIngest], dead: list[DeadLetter]) -> Ingested:
        """Record the batch in one transaction: ``dead`` always; each event of ``events``
        (distinct ``(source, id)``) with its starts and failures if it was not recorded
        before. An execution id that exists already counts as started (never started twice)
        but is not among ``Ingested.started``, the ones this call wrote. Raises only if the
        database cannot be written (or ``IngestRaced``)."""
        ...

    async def put_subscription(self, sub: Subscription) -> bool:
        """Store ``sub``; False if one of its name exists (left as it is)."""
        ...

    async def get_subscription(self, name: str) -> Subscription | None: ...

    async def list_subscriptions(self) -> list[Subscription]:
        """All of them, by name."""
        ...

    async def delete_subscription(self, name: str) -> bool:
        """False if there was none of that name."""
        ...

    async def get_event(self, source: str, event_id: str) -> StoredEvent | None: ...

    async def dead_letters(
        self, limit: int, before: tuple[int, str] | None = None
    ) -> list[DeadLetter]:
        """Newest first, on ``(received_at, id)``; ``before``: the last of the previous page."""
        ...

    async def get_dead_letter(self, letter_id: str) -> DeadLetter | None: ...

    async def redrive_dead_letter(
        self, letter_id: str, now: int, event: StoredEvent | None, starts: list[NewExecution]
    ) -> bool:
        """In one transaction: mark the dead letter redriven (at ``now``, to ``starts``' ids)
        and write ``starts`` (an id that exists counts as started, not written again), with
        ``event`` (a body that was not an event before) unless its ``(source, id)`` is
        recorded: then nothing is started. The starts' ids are added to their event's
        ``execution_ids``. False, and nothing written, if it was redriven already."""
        ...
