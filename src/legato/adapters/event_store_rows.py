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
    """``id, received_at, via, reason, body, subscription, event_source, event_id,
    redriven_at, redriven_to``."""
    redriven = None if row[8] is None else int(row[8])
    to = None if row[9] is None else list(codec.loads(row[9]))
    return DeadLetter(row[0], int(row[1]), row[2], row[3], row[4], row[5], row[6], row[7],
                      redriven, to)  # fmt: skip


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
    starts = yield from _write_starts(starts)
    if letters:
        yield Many("insert_dead_letter", letters)
    return Ingested(new, [n.id for n in starts]), starts


def _write_starts(starts: list[NewExecution]) -> Generator[Step, Result, list[NewExecution]]:
    """Insert the executions of ``starts`` not started before (by hand, or by an event since
    forgotten: done already); the ones written."""
    if starts:
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
    return starts


def redrive_letter(
    letter_id: str, now: int, event: StoredEvent | None, starts: list[NewExecution]
) -> Generator[Step, Result, tuple[bool, list[NewExecution]]]:
    """``Events.redrive_dead_letter``: whether it was redriven now, and the executions
    written (on PostgreSQL the caller then notifies whom they concern)."""
    if event is not None:
        rows = codec.dumps([_event_row(event)], "events")
        if not (yield Query("insert_events", {"rows": rows})).rows:
            starts = []  # that event is recorded: it started what it starts already
    ids = codec.dumps([n.id for n in starts], "execution ids")
    marked = yield Query("mark_dead_letter_redriven", {"id": letter_id, "now": now, "to": ids})
    if marked.rowcount != 1:  # redriven already (its event, if any, was recorded then)
        return False, []
    written = yield from _write_starts(starts)
    if event is None:  # the letter's event is recorded: it names these executions too
        for n in written:
            yield Query("add_event_execution", {"letter": letter_id, "execution_id": n.id})
    return True, written
