"""Events, subscriptions and dead letters as rows, and a batch's ingest written once for both
dialects as a script of named queries (``sql_scripts``).

The ingest costs a fixed number of statements per batch, not per event: one insert of all the
events that answers which were new (the dedupe), one look for execution ids that exist already,
then one ``executemany`` per table for the starts and the dead letters.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from legato.adapters.sql_scripts import Many, Query, Result, Step
from legato.adapters.transition_rows import execution_insert_row, insert_rows, label_rows
from legato.core import codec
from legato.core.subscriptions import Subscription
from legato.core.transition import NewExecution
from legato.ports.events import DeadLetter, EventIngest, Ingested, IngestRaced, StoredEvent


def subscription_params(sub: Subscription) -> dict[str, Any]:
    return {"name": sub.name, "event_type": sub.event_type, "workflow": sub.workflow,
            "version": sub.version, "filter": sub.filter, "transform": sub.transform,
            "now": sub.created_at}  # fmt: skip


def subscription_from_row(row: tuple[Any, ...]) -> Subscription:
    """``name, event_type, workflow, version, filter, transform, created_at``."""
    return Subscription(row[0], row[1], row[2], row[3], row[4], row[5], int(row[6]))


def event_from_row(row: tuple[Any, ...]) -> StoredEvent:
    """``source, id, type, subject, time, data, received_at, via, execution_ids``."""
    return StoredEvent(row[0], row[1], row[2], row[3], row[4], row[5], int(row[6]), row[7],
                       list(codec.loads(row[8])))  # fmt: skip


def dead_letter_from_row(row: tuple[Any, ...]) -> DeadLetter:
    return DeadLetter(row[0], int(row[1]), row[2], row[3], row[4], row[5], row[6], row[7])


def dead_letter_row(d: DeadLetter) -> tuple[Any, ...]:
    return (d.id, d.received_at, d.via, d.reason, d.body, d.subscription, d.event_source,
            d.event_id)  # fmt: skip


def _event_row(e: StoredEvent) -> list[Any]:
    return [e.source, e.id, e.type, e.subject, e.time, e.data, e.received_at, e.via,
            codec.dumps(e.execution_ids, "execution ids")]  # fmt: skip


def ingest(
    events: list[EventIngest], dead: list[DeadLetter]
) -> Generator[Step, Result, tuple[Ingested, list[NewExecution]]]:
    """What was written, and the executions it started (on PostgreSQL the caller then
    notifies whom they concern)."""
    letters = [dead_letter_row(d) for d in dead]
    new: list[bool] = []
    starts: list[NewExecution] = []
    if events:
        rows = codec.dumps([_event_row(e.event) for e in events], "events")
        fresh = {(s, i) for s, i in (yield Query("insert_events", {"rows": rows})).rows}
        new = [(e.event.source, e.event.id) in fresh for e in events]
        for e, is_new in zip(events, new, strict=True):
            if is_new:
                starts += e.starts
                letters += [dead_letter_row(d) for d in e.failures]
    if starts:  # an id started before (by hand, or an event since forgotten) is done already
        found = yield Query("existing_executions", {"ids": [n.id for n in starts]})
        exists = {r[0] for r in found.rows}
        starts = [n for n in starts if n.id not in exists]
    if starts:
        done = yield Many("insert_execution", [execution_insert_row(n) for n in starts])
        if done.rowcount != len(starts):  # another start of one of these ids committed meanwhile
            raise IngestRaced(f"{len(starts) - done.rowcount} execution(s) started meanwhile")
        for name, many in insert_rows([n.transition for n in starts]):
            if many:
                yield Many(name, many)
        labels = label_rows(starts)
        if labels:
            yield Many("insert_label", labels)
    if letters:
        yield Many("insert_dead_letter", letters)
    return Ingested(new, [n.id for n in starts]), starts
