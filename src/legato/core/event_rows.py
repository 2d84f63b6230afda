"""Events as stored: the history table's columns, the same for every database and for exported
histories (``legato executions history ID --json``).

A row is ``(type, ts, ref, name, payload, meta)``: ``ref`` the command number, ``name`` and
``payload`` the fields each event type marks ``NAME`` and ``PAYLOAD``, and ``meta`` a dict of
its other fields. How each type maps is read once from its dataclass fields, so adding an event
type needs no code here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields
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
    type: str  # an EventType's value
    ts: int
    ref: int | None
    name: str | None
    payload: str | None
    meta: dict[str, JSON]


class _Layout(NamedTuple):
    meta: tuple[str, ...]
    ref: str | None
    name: str | None
    payload: str | None
    required: frozenset[str]  # fields that have no default and may not be None


_FIXED_NAMES: dict[type[Event], str] = {ExternalTaskStarted: EXTERNAL_TASK}
_DECODE: dict[str, type[SuspendKind]] = {"kind": SuspendKind}


Columns = tuple[str, int, int | None, str | None, str | None, dict[str, JSON]]


def _layout(cls: type[Event]) -> tuple[_Layout, Callable[[Any], Columns]]:
    ref = name = payload = None
    meta: list[tuple[str, bool]] = []
    required = set()
    for f in fields(cls):
        if f.name in ("ts", "seq", "batch"):
            continue
        if f.default is MISSING and "None" not in str(f.type):
            required.add(f.name)
        column = f.metadata.get("column", "meta")
        if f.name == "ref":
            ref = f.name
        elif column == "name":
            name = f.name
        elif column == "payload":
            payload = f.name
        else:
            meta.append((f.name, bool(f.metadata.get("omit_none"))))
    layout = _Layout(tuple(k for k, _ in meta), ref, name, payload, frozenset(required))
    return layout, _row_function(cls, layout, meta)


def _row_function(
    cls: type[Event], layout: _Layout, meta: list[tuple[str, bool]]
) -> Callable[[Any], Columns]:
    """``columns`` for one type, written out as Python source once (as ``dataclasses`` writes
    ``__init__``): rows are made on the hot path, one per event written."""
    fixed = _FIXED_NAMES.get(cls)
    lines = ["def row(e):", "    meta = {}"]
    for key, omit_none in meta:
        store = f"meta[{key!r}] = e.{key}"
        lines.append(f"    if e.{key} is not None: {store}" if omit_none else f"    {store}")
    columns = [
        repr(cls.type.value),
        "e.ts",
        f"e.{layout.ref}" if layout.ref else "None",
        f"e.{layout.name}" if layout.name else repr(fixed),
        f"e.{layout.payload}" if layout.payload else "None",
        "meta",
    ]
    lines.append(f"    return ({', '.join(columns)})")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)  # noqa: S102 - source built above from field names
    row: Callable[[Any], Columns] = namespace["row"]
    return row


_LAYOUTS: dict[type[Event], _Layout] = {}
_ROWS: dict[type[Event], Callable[[Any], Columns]] = {}
for _cls in EVENT_CLASSES.values():
    _LAYOUTS[_cls], _ROWS[_cls] = _layout(_cls)


def to_row(event: Event) -> EventRow:
    return EventRow._make(_ROWS[type(event)](event))


def columns(event: Event) -> Columns:
    """``to_row`` as a plain tuple, for the stores' hot path."""
    return _ROWS[type(event)](event)


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
    for key in layout.meta:
        if key in meta:
            value = meta[key]
            values[key] = _DECODE[key](value) if key in _DECODE else value
    lacking = sorted(k for k in layout.required if values.get(k) is None)
    if lacking:
        raise EventFormatError(f"{type_} event (seq {seq}) has no {', '.join(lacking)}")
    return cls(ts=ts, seq=seq, batch=batch, **values)
