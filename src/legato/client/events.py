"""Events in: a batch of bodies (from ``POST /v1/events`` or a broker) becomes the executions
its subscriptions start, and the dead letters, in one transaction (``Events.ingest``).

Before the transaction, with no lock held: parse each body (``core.cloudevents``), read the
subscriptions once, route each event (``core.subscriptions``: filter, transform) and build the
PENDING start of each match, addressed to whatever serves the target: a workflow this app
registers (its input checked against its signature), a state machine stored in the database, or
a code workflow only another engine serves (``workflow_types``). The store then keeps the new
events with their starts and drops the duplicates: the dedupe is the events table's key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from legato.core import codec, decide, started_by
from legato.core.cloudevents import CloudEvent, Raw, parse_event
from legato.core.events import JSON
from legato.core.subscriptions import RouteFailed, Subscription, event_execution_id, route
from legato.core.transition import NewExecution
from legato.engine import metrics
from legato.engine.orchestrator import PreparedStart
from legato.engine.registry import WorkflowDef
from legato.errors import DeadLetterStillFails, DefinitionNotFound, InvalidEvent, LegatoError
from legato.ports.events import (
    DeadLetter,
    EventIngest,
    Ingested,
    IngestResult,
    IngestStatus,
    StoredEvent,
)
from legato.ports.store import Store

if TYPE_CHECKING:
    from legato.client.app import App


@dataclass(frozen=True, slots=True)
class Target:
    """What a subscription starts: a workflow's name and version, and how its input is made."""

    workflow: str
    version: str
    timeout_ms: int | None
    wf: WorkflowDef | None  # None: a code workflow only another engine serves

    def input_json(self, value: JSON) -> str:
        """The start's input (``[[value], {}]``: the workflow's one argument, a state
        machine's input); ``LegatoError`` if the workflow would not take it."""
        what = f"input of workflow {self.workflow!r}"
        if self.wf is None:
            return codec.dumps([[value], {}], what)
        if self.wf.kind == "code":
            problems = self.wf.arg_schema.check([value], {})
            if problems:
                said = "; ".join(f"{p.path}: {p.message}" for p in problems)
                raise LegatoError(f"the input does not fit workflow {self.workflow!r}: {said}")
        return self.wf.signature.encode_args((value,), {}, what)


async def resolve(app: App, store: Store, sub: Subscription) -> Target | str:
    """The subscription's target now, or why there is none (its events are dead letters)."""
    name, version = sub.workflow, sub.version
    registered = [wf for (n, v), wf in app.registry.workflows.items() if n == name]
    if version is not None:
        registered = [wf for wf in registered if wf.version == version]
    if registered:
        wf = registered[-1]
        return Target(wf.name, wf.version, wf.timeout_ms, wf)
    try:
        wf = await app.machines.for_start(store, name, version)
        return Target(wf.name, wf.version, wf.timeout_ms, wf)
    except DefinitionNotFound:
        pass
    served = [t for t in await store.workflow_types() if t.name == name]
    if version is not None:
        served = [t for t in served if t.version == version]
    if served:
        newest = max(served, key=lambda t: t.seen_at)
        return Target(name, newest.version, None, None)
    which = f" version {version!r}" if version is not None else ""
    return (
        f"subscription {sub.name!r}: workflow {name!r}{which} is not registered, stored as a "
        "state machine, or served by any engine"
    )


def body_text(body: Raw) -> str:
    """A body as a dead letter keeps it: its text (undecodable bytes replaced), or JSON."""
    if isinstance(body, bytes):
        return body.decode(errors="replace")
    if isinstance(body, str):
        return body
    try:
        return codec.dumps(dict(body), "event")
    except LegatoError:
        return repr(body)


class _Batch:
    """One ingest: what each body became, and the rows for the store."""

    def __init__(self, app: App, via: str, now: int, batch_id: str) -> None:
        self.app = app
        self.batch_id = batch_id  # dead letter ids: the same when a cut commit is retried
        self.via = via
        self.now = now
        self.results: list[IngestResult | None] = []
        self.events: list[EventIngest] = []
        self.slots: list[int] = []  # the result index of each of ``events``
        self.dead: list[DeadLetter] = []
        self.seen: dict[tuple[str, str], int] = {}
        self.letters = 0
        engine = app.running_engine
        self.orchestrator = engine.orchestrator if engine is not None else None
        self.prepared: list[PreparedStart] = []

    def recorded(self, started: list[str] | None) -> None:
        """Hand the starts decided here back to the orchestrator: those written go on, the
        others (duplicates; all of them if ``started`` is None: the transaction failed) end."""
        assert self.orchestrator is not None or not self.prepared
        written = set(started or ())
        for prepared in self.prepared:
            assert self.orchestrator is not None
            self.orchestrator.start_recorded(prepared, prepared.new.id in written)
        self.prepared = []

    def letter(
        self, reason: str, body: str, sub: str | None = None, event: CloudEvent | None = None
    ) -> DeadLetter:
        self.letters += 1
        return DeadLetter(
            f"{self.batch_id}-{self.letters:05d}", self.now, self.via, reason, body, sub,
            event.source if event else None, event.id if event else None,
        )  # fmt: skip

    def add(
        self, body: Raw, event: CloudEvent, subs: list[Subscription], targets: dict[str, Any]
    ) -> None:
        data = codec.dumps(event.data, "event data")
        key = (event.source, event.id)
        if key in self.seen:  # earlier in this batch: the same dedupe as a stored one
            self.results.append(IngestResult("duplicate", event.id, event.source))
            return
        self.seen[key] = len(self.results)
        starts: list[NewExecution] = []
        failures: list[DeadLetter] = []
        text: str | None = None
        for outcome in route(event, subs):
            sub = outcome.subscription
            target = targets[sub.name]
            if isinstance(outcome, RouteFailed):
                reason = outcome.reason
            elif isinstance(target, str):
                reason = target
            else:
                try:
                    starts.append(self._start(sub, target, event, outcome.input))
                    continue
                except LegatoError as exc:
                    reason = f"subscription {sub.name!r}: {exc}"
            text = text if text is not None else body_text(body)
            failures.append(self.letter(reason, text, sub.name, event))
        ids = [n.id for n in starts]
        row = StoredEvent(event.source, event.id, event.type, event.subject, event.time, data,
                          self.now, self.via, ids)  # fmt: skip
        self.slots.append(len(self.results))
        self.results.append(None)
        self.events.append(EventIngest(row, starts, failures))

    def _start(
        self, sub: Subscription, target: Target, event: CloudEvent, value: JSON
    ) -> NewExecution:
        """The start with its first decision when this process decides it (as ``App.start``
        does: no poll, no replay), else PENDING for whichever engine does."""
        input_json = target.input_json(value)
        self.app.check_payload(input_json, f"input of workflow {target.workflow!r}")
        by = started_by.encode(started_by.event(sub.name, event.source, event.id, event.type))
        eid = event_execution_id(sub.name, event.source, event.id)
        if self.orchestrator is not None and target.wf is not None:
            prepared = self.orchestrator.prepare_start(
                target.wf, eid, input_json, target.timeout_ms, by
            )
            if prepared is not None:
                self.prepared.append(prepared)
                return prepared.new
        return decide.pending_start(
            eid, target.workflow, target.version, input_json, self.now, target.timeout_ms,
            None, by,
        )  # fmt: skip

    def finish(self, done: Ingested) -> list[IngestResult]:
        self.recorded(done.started)
        for slot, item, is_new in zip(self.slots, self.events, done.new, strict=True):
            e = item.event
            if not is_new:
                self.results[slot] = IngestResult("duplicate", e.id, e.source)
                continue
            reasons = "; ".join(d.reason for d in item.failures) or None
            status: IngestStatus
            if item.starts:
                status = "started"
            elif item.failures:
                status = "dead_letter"
            else:
                status = "no_match"
            ids = [n.id for n in item.starts]
            self.results[slot] = IngestResult(status, e.id, e.source, ids, reasons)
        out = [r for r in self.results if r is not None]
        assert len(out) == len(self.results)
        return out


async def ingest(
    app: App, store: Store, bodies: Sequence[Raw], via: str, now: int, batch_id: str
) -> list[IngestResult]:
    """Plan the batch, record it in one transaction, hand its starts on; what each body did.
    Starts decided here are dropped if anything fails before the commit is known."""
    batch = _Batch(app, via, now, batch_id)
    try:
        await plan(batch, store, bodies)
        done = await store.ingest(batch.events, batch.dead)
    except BaseException:
        batch.recorded(None)
        raise
    # the rows written: every body that is not an event, and the failures of the new events
    failed = sum(len(e.failures) for e, new in zip(batch.events, done.new, strict=True) if new)
    metrics.dead_letters(via, len(batch.dead) + failed)
    return batch.finish(done)


async def plan(batch: _Batch, store: Store, bodies: Sequence[Raw]) -> None:
    """Parse, route and build the starts of a batch (no writes)."""
    app = batch.app
    parsed: list[CloudEvent | InvalidEvent] = []
    for body in bodies:
        try:
            parsed.append(parse_event(body))
        except InvalidEvent as exc:
            parsed.append(exc)
    subs: list[Subscription] = []
    targets: dict[str, Target | str] = {}
    if any(isinstance(p, CloudEvent) for p in parsed):
        types = {p.type for p in parsed if isinstance(p, CloudEvent)}
        subs = [s for s in await store.list_subscriptions() if s.event_type in types]
        for sub in subs:
            targets[sub.name] = await resolve(app, store, sub)
    for body, p in zip(bodies, parsed, strict=True):
        if isinstance(p, InvalidEvent):
            batch.dead.append(batch.letter(str(p), body_text(body)))
            batch.results.append(IngestResult("dead_letter", None, None, [], str(p)))
            continue
        try:
            batch.add(body, p, subs, targets)
        except LegatoError as exc:  # data that is not JSON (a Mapping given by code)
            reason = f"event {p.source!r} {p.id!r}: {exc}"
            batch.dead.append(batch.letter(reason, body_text(body), None, p))
            batch.results.append(IngestResult("dead_letter", p.id, p.source, [], reason))


async def redrive_plan(
    app: App, store: Store, letter: DeadLetter, now: int
) -> tuple[StoredEvent | None, list[NewExecution]]:
    """What redriving ``letter`` writes: the starts its event makes now (PENDING, for whichever
    engine decides them), through the letter's subscription as it is now, or (a body that was
    not an event) through every subscription of its type with the event itself to record.
    ``DeadLetterStillFails`` if it fails again: a body that is still not an event, a
    subscription deleted since, a filter, transform or input that fails."""
    try:
        event = parse_event(letter.body)
    except InvalidEvent as exc:
        raise DeadLetterStillFails(letter.id, str(exc)) from None
    batch = _Batch(app, letter.via, now, f"redrive-{letter.id}")
    batch.orchestrator = None  # PENDING: the engine that decides its partition picks it up
    if letter.subscription is not None:
        sub = await store.get_subscription(letter.subscription)
        if sub is None:
            reason = f"subscription {letter.subscription!r} no longer exists"
            raise DeadLetterStillFails(letter.id, reason)
        subs = [sub]
    else:
        subs = [s for s in await store.list_subscriptions() if s.event_type == event.type]
    targets = {sub.name: await resolve(app, store, sub) for sub in subs}
    try:
        batch.add(letter.body, event, subs, targets)
    except LegatoError as exc:  # its data is not JSON
        raise DeadLetterStillFails(letter.id, str(exc)) from None
    (planned,) = batch.events
    if planned.failures:
        reasons = "; ".join(d.reason for d in planned.failures)
        raise DeadLetterStillFails(letter.id, reasons)
    recorded = None if letter.subscription is not None else planned.event
    return recorded, planned.starts
