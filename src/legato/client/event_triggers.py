"""``App``'s events: ingest a batch, manage subscriptions, read events and dead letters.

Every call goes through the app's store with ``App._retrying`` (a restarting database is waited
for). ``ingest`` is the one entry for events from anywhere (HTTP, a broker consumer, code):
``client/events.py`` plans the batch, ``Events.ingest`` commits it whole.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from legato.client import events
from legato.core import codec
from legato.core.cloudevents import Raw
from legato.core.durations import instant
from legato.core.subscriptions import Subscription, check_subscription
from legato.errors import (
    DeadLetterNotFound,
    EventNotFound,
    InvalidSubscription,
    SubscriptionExists,
    SubscriptionNotFound,
)
from legato.ports.events import DeadLetter, IngestRaced, IngestResult, StoredEvent
from legato.ports.executions import ExecutionRow, parse_cursor
from legato.ports.store import Store

if TYPE_CHECKING:
    from legato.client.app import App

RACE_ATTEMPTS = 3  # an ingest that lost a race for an execution id is planned again
LOGGED_LETTERS = 5  # dead letters of one batch logged one by one
log = logging.getLogger("legato.events")


@dataclass(frozen=True, slots=True)
class EventDetail:
    """An event as recorded, with the executions it started as they are now."""

    event: StoredEvent
    executions: list[ExecutionRow]

    def as_json(self) -> dict[str, Any]:
        out = self.event.as_json()
        out["executions"] = [
            {"id": r.id, "workflow": r.workflow, "version": r.version, "status": r.status.value}
            for r in self.executions
        ]
        return out


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {"name": sub.name, "event_type": sub.event_type, "workflow": sub.workflow,
            "version": sub.version, "filter": sub.filter, "transform": sub.transform,
            "created_at": instant(sub.created_at).isoformat()}  # fmt: skip


def dead_letter_cursor(letter: DeadLetter) -> str:
    """Where the page after ``letter`` starts (opaque to callers; read by ``parse_cursor``)."""
    raw = codec.dumps([letter.received_at, letter.id], "cursor").encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class EventTriggers:
    def __init__(self, app: App) -> None:
        self.app = app

    async def ingest(self, bodies: Sequence[Raw], via: str) -> list[IngestResult]:
        if not bodies:
            return []
        app = self.app
        now = app.clock.now_ms()
        batch_id = uuid.uuid4().hex[:20]

        async def write(store: Store) -> list[IngestResult]:
            return await events.ingest(app, store, bodies, via, now, batch_id)

        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                results = await app._retrying(f"ingesting {len(bodies)} event(s)", write)
                break
            except IngestRaced:
                if attempt == RACE_ATTEMPTS:
                    raise
        if any(r.status == "started" for r in results):
            app._wake()
        letters = [r for r in results if r.reason is not None]
        for r in letters[:LOGGED_LETTERS]:  # an operator learns of them without looking
            log.warning("dead letter from %s: event %s %s: %s", via, r.source, r.event_id,
                        r.reason)  # fmt: skip
        if len(letters) > LOGGED_LETTERS:
            log.warning("... and %d more dead letters from %s", len(letters) - LOGGED_LETTERS, via)
        return results

    async def create_subscription(self, sub: Subscription) -> Subscription:
        app = self.app
        sub = check_subscription(sub)

        async def put(store: Store) -> Subscription:
            target = await events.resolve(app, store, sub)
            if isinstance(target, str):
                raise InvalidSubscription("workflow", target)
            stored = Subscription(sub.name, sub.event_type, sub.workflow, sub.version,
                                  sub.filter, sub.transform, app.clock.now_ms())  # fmt: skip
            if await store.put_subscription(stored):
                return stored
            existing = await store.get_subscription(sub.name)
            if existing is None or not existing.same_as(stored):
                raise SubscriptionExists(sub.name)
            return existing

        return await app._retrying(f"creating subscription {sub.name!r}", put)

    async def get_subscription(self, name: str) -> Subscription:
        async def get(store: Store) -> Subscription | None:
            return await store.get_subscription(name)

        found = await self.app._retrying(f"reading subscription {name!r}", get)
        if found is None:
            raise SubscriptionNotFound(name)
        return found

    async def list_subscriptions(self) -> list[Subscription]:
        async def rows(store: Store) -> list[Subscription]:
            return await store.list_subscriptions()

        return await self.app._retrying("listing subscriptions", rows)

    async def delete_subscription(self, name: str) -> None:
        async def delete(store: Store, repeat: bool) -> bool:
            return await store.delete_subscription(name) or repeat

        if not await self.app._retrying_once(f"deleting subscription {name!r}", delete):
            raise SubscriptionNotFound(name)

    async def get_event(self, source: str, event_id: str) -> EventDetail:
        async def get(store: Store) -> EventDetail | None:
            found = await store.get_event(source, event_id)
            if found is None:
                return None
            rows = [await store.load_execution(i) for i in found.execution_ids]
            return EventDetail(found, [r for r in rows if r is not None])

        detail = await self.app._retrying(f"reading event {source!r} {event_id!r}", get)
        if detail is None:
            raise EventNotFound(source, event_id)
        return detail

    async def dead_letters(self, limit: int, cursor: str | None) -> list[DeadLetter]:
        before = parse_cursor(cursor) if cursor else None  # BadCursor: not one of ours

        async def rows(store: Store) -> list[DeadLetter]:
            return await store.dead_letters(limit, before)

        return await self.app._retrying("listing dead letters", rows)

    async def redrive_dead_letter(self, letter_id: str) -> DeadLetter:
        """Ingest the letter's event again (``events.redrive_plan``) and mark the letter
        redriven, in one transaction; a letter redriven already is answered as it is."""
        app = self.app

        async def redrive(store: Store) -> DeadLetter:
            letter = await store.get_dead_letter(letter_id)
            if letter is None:
                raise DeadLetterNotFound(letter_id)
            if letter.redriven_at is None:
                now = app.clock.now_ms()
                event, starts = await events.redrive_plan(app, store, letter, now)
                await store.redrive_dead_letter(letter_id, now, event, starts)
                letter = await store.get_dead_letter(letter_id)
                assert letter is not None
            return letter

        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                done = await app._retrying(f"redriving dead letter {letter_id!r}", redrive)
                break
            except IngestRaced:
                if attempt == RACE_ATTEMPTS:
                    raise
        if done.redriven_to:
            app._wake()
        return done

    async def publish(
        self,
        event_type: str,
        data: Any,
        source: str,
        event_id: str | None,
        subject: str | None,
        via: str,
    ) -> IngestResult:
        body: dict[str, Any] = {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "source": source,
            "type": event_type,
            "time": instant(self.app.clock.now_ms()).isoformat().replace("+00:00", "Z"),
            "data": data,
        }
        if subject is not None:
            body["subject"] = subject
        (result,) = await self.ingest([body], via)
        return result
