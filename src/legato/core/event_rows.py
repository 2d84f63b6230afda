"""Events as stored: the history table's columns, the same for every database and for exported
histories (``legato executions history ID --json``).

A row is ``(type, ts, ref, name, payload, meta)``: ``ref`` the command number, ``name`` and
``payload`` the fields each event type marks ``NAME`` and ``PAYLOAD``, and ``meta`` a dict of
its other fields. How each type maps is read once from its dataclass fields, so adding an event
type needs no code here.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, NamedTuple

from legato.core.events import (
    EVENT_CLASSES,
    EXTERNAL_TASK,
    JSON,
    Event,
    EventType,
    ExternalTaskStarted,
    SuspendKind,
)


class EventRow(NamedTuple):
    type: EventType
    ts: int
    ref: int | None
    name: str | None
    payload: str | None
    meta: dict[str, JSON]


@dataclass(frozen=True, slots=True)
class _Layout:
    ref: bool
    name: str | None
    payload: str | None
    meta: tuple[tuple[str, bool], ...]  # (field, omitted while None)
    required: frozenset[str]  # fields that have no default and may not be None


_FIXED_NAMES: dict[type[Event], str] = {ExternalTaskStarted: EXTERNAL_TASK}
_DECODE: dict[str, type[SuspendKind]] = {"kind": SuspendKind}


def _layout(cls: type[Event]) -> _Layout:
    name = payload = None
    meta: list[tuple[str, bool]] = []
    required = set()
    has_ref = False
    for f in fields(cls):
        if f.name in ("ts", "seq", "batch"):
            continue
        if f.default is MISSING and "None" not in str(f.type):
            required.add(f.name)
        column = f.metadata.get("column", "meta")
        if f.name == "ref":
            has_ref = True
        elif column == "name":
            name = f.name
        elif column == "payload":
            payload = f.name
        else:
            meta.append((f.name, bool(f.metadata.get("omit_none"))))
    return _Layout(has_ref, name, payload, tuple(meta), frozenset(required))


_LAYOUTS: dict[type[Event], _Layout] = {cls: _layout(cls) for cls in EVENT_CLASSES.values()}


def to_row(event: Event) -> EventRow:
    layout = _LAYOUTS[type(event)]
    meta: dict[str, JSON] = {}
    for key, omit_none in layout.meta:
        value = getattr(event, key)
        if value is not None or not omit_none:
            meta[key] = value
    return EventRow(
        event.type,
        event.ts,
        getattr(event, "ref") if layout.ref else None,  # noqa: B009 - not every type has one
        getattr(event, layout.name) if layout.name else _FIXED_NAMES.get(type(event)),
        getattr(event, layout.payload) if layout.payload else None,
        meta,
    )


class EventFormatError(ValueError):
    """A stored or exported row that is not an event of its type."""


def from_row(
    type_: str,
    ts: int,
    ref: int | None,
    name: str | None,
    payload: str | None,
    meta: dict[str, Any],
    seq: int = 0,
    batch: int = 0,
) -> Event:
    try:
        cls = EVENT_CLASSES[EventType(type_)]
    except ValueError:
        raise EventFormatError(f"unknown event type {type_!r}") from None
    layout = _LAYOUTS[cls]
    values: dict[str, Any] = {}
    if layout.ref:
        values["ref"] = ref
    if layout.name:
        values[layout.name] = name
    if layout.payload:  # JSON text; an exported ``null`` comes back as None
        required = layout.payload in layout.required
        values[layout.payload] = "null" if payload is None and required else payload
    for key, _ in layout.meta:
        if key in meta:
            value = meta[key]
            values[key] = _DECODE[key](value) if key in _DECODE else value
    lacking = sorted(k for k in layout.required if values.get(k) is None)
    if lacking:
        raise EventFormatError(f"{type_} event (seq {seq}) has no {', '.join(lacking)}")
    return cls(ts=ts, seq=seq, batch=batch, **values)
