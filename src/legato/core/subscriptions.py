"""Which workflows an event starts, and with what input: pure, so it is a table of cases.

A subscription maps an event ``type`` (exact match) and an optional JSONata ``filter`` over the
event (``CloudEvent.document()``: ``{id, source, type, subject, time, data}``; a truthy result
matches, an undefined one does not) to a workflow, with an optional JSONata ``transform`` over
the same document producing the workflow's input (default: the event's ``data``). A filter or
transform that fails is not a non-match: it is reported, so the event goes to the dead letters
with the reason instead of being dropped silently.

The execution an event starts has a deterministic id (``event_execution_id``), so a redelivery
that slips past the event dedupe still finds the execution it started.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from legato.core.asl.errors import StatesError
from legato.core.asl.jsonata_query import check_syntax, evaluate_on
from legato.core.cloudevents import CloudEvent
from legato.core.events import JSON
from legato.errors import InvalidSubscription

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


@dataclass(frozen=True, slots=True)
class Subscription:
    name: str
    event_type: str
    workflow: str
    version: str | None = None
    filter: str | None = None
    transform: str | None = None
    created_at: int = 0

    def same_as(self, other: Subscription) -> bool:
        """The same subscription, whenever it was created (a repeated create is no change)."""
        return (self.name, self.event_type, self.workflow, self.version, self.filter,
                self.transform) == (other.name, other.event_type, other.workflow, other.version,
                                    other.filter, other.transform)  # fmt: skip


def check_subscription(sub: Subscription) -> Subscription:
    """``sub`` if it can be stored, else ``InvalidSubscription`` naming the field. An empty
    filter or transform is none."""
    if not _NAME.fullmatch(sub.name):
        raise InvalidSubscription(
            "name", f"{sub.name!r} must be 1-128 letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit"
        )  # fmt: skip
    for field, value in (("event_type", sub.event_type), ("workflow", sub.workflow)):
        if not value or len(value) > 1024:
            raise InvalidSubscription(field, "must be 1-1024 characters")
    for field, expression in (("filter", sub.filter), ("transform", sub.transform)):
        if expression is not None and expression.strip():
            problem = check_syntax("{%" + expression + "%}")
            if problem is not None:
                raise InvalidSubscription(field, f"not a JSONata expression: {problem}")
    return Subscription(
        sub.name, sub.event_type, sub.workflow, sub.version or None,
        (sub.filter or "").strip() or None, (sub.transform or "").strip() or None, sub.created_at,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Routed:
    """The event starts ``subscription``'s workflow with ``input``."""

    subscription: Subscription
    input: JSON


@dataclass(frozen=True, slots=True)
class RouteFailed:
    """The subscription's filter or transform failed on the event: a dead letter."""

    subscription: Subscription
    reason: str


def route(event: CloudEvent, subscriptions: Sequence[Subscription]) -> list[Routed | RouteFailed]:
    """What ``event`` does, one entry per subscription it matches or fails on, in the order
    given; subscriptions of other types, or whose filter is false or undefined, are left out."""
    out: list[Routed | RouteFailed] = []
    document: dict[str, JSON] | None = None
    for sub in subscriptions:
        if sub.event_type != event.type:
            continue
        if sub.filter is None and sub.transform is None:
            out.append(Routed(sub, event.data))
            continue
        if document is None:
            document = event.document()
        stage = "filter"
        try:
            if sub.filter is not None:
                defined, value = evaluate_on(sub.filter, document, field="filter")
                if not (defined and truthy(value)):
                    continue
            if sub.transform is None:
                out.append(Routed(sub, event.data))
                continue
            stage = "transform"
            defined, value = evaluate_on(sub.transform, document, field="transform")
        except StatesError as exc:
            out.append(RouteFailed(sub, f"subscription {sub.name!r}: {stage} failed: {exc.cause}"))
            continue
        if not defined:
            out.append(
                RouteFailed(
                    sub, f"subscription {sub.name!r}: transform returned nothing (undefined)"
                )  # fmt: skip
            )
            continue
        out.append(Routed(sub, value))
    return out


def truthy(value: JSON) -> bool:
    """JSONata's ``$boolean``: false, 0, "", null, empty arrays and objects are false; an
    array is true when one of its members is."""
    if isinstance(value, list):
        return any(truthy(item) for item in value)
    return bool(value)


def event_execution_id(subscription: str, source: str, event_id: str) -> str:
    """The id of the execution ``subscription`` starts for the event (source, id)."""
    digest = hashlib.sha256(f"{source}\0{event_id}".encode()).hexdigest()[:20]
    return f"{subscription}-{digest}"
