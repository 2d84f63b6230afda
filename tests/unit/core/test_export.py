"""Exported histories (legato.core.export): the JSON form and back."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any, get_args, get_type_hints

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.event_rows import to_row
from legato.core.events import (
    EVENT_CLASSES,
    Event,
    ExecutionResumed,
    ExecutionStarted,
    StepCompleted,
    StepScheduled,
    SuspendKind,
)
from legato.core.export import HistoryFormatError, export_history, import_history

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
json_texts = json_values.map(json.dumps)
ints = st.integers(0, 2**53)
texts = st.text(max_size=20)
_BY_TYPE: dict[object, st.SearchStrategy[Any]] = {
    int: ints,
    str: texts,
    bool: st.booleans(),
    SuspendKind: st.sampled_from(list(SuspendKind)),
}


def _field_values(cls: type[Event]) -> dict[str, st.SearchStrategy[Any]]:
    """A strategy per field: JSON text where the event keeps a payload, else by its type."""
    hints = get_type_hints(cls)
    out: dict[str, st.SearchStrategy[Any]] = {}
    for f in fields(cls):
        if f.name in ("ts", "seq", "batch"):
            continue
        kind = hints[f.name]
        nullable = type(None) in get_args(kind)
        base = next(a for a in get_args(kind) if a is not type(None)) if nullable else kind
        value = json_texts if f.metadata.get("column") == "payload" else _BY_TYPE[base]
        out[f.name] = (st.none() | value) if nullable else value
    return out


def any_event(ts: int, seq: int, batch: int) -> st.SearchStrategy[Event]:
    return st.one_of(
        *(
            st.builds(
                cls, ts=st.just(ts), seq=st.just(seq), batch=st.just(batch), **_field_values(cls)
            )
            for cls in EVENT_CLASSES.values()
        )
    )


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(0, 12))
    events = []
    batch = 1
    for seq in range(1, n + 1):
        if seq > 1 and draw(st.booleans()):
            batch = seq
        events.append(draw(any_event(draw(st.integers(0, 2**50)), seq, batch)))
    return events


def decoded(e: Event) -> tuple[Any, ...]:
    """An event with its payload as a value: JSON text is compared by meaning, not spelling."""
    row = to_row(e)
    value = None if row.payload is None else json.loads(row.payload)
    return (row.type, row.ts, row.ref, row.name, value, row.meta, e.seq, e.batch)


ids = st.text(min_size=1, max_size=30)


@given(ids, ids, ids, histories())
def test_round_trip_through_a_json_file(
    eid: str, wf: str, version: str, events: list[Event]
) -> None:
    exported = export_history(eid, wf, version, events)
    text = json.dumps(exported)  # what `legato executions history ID --json` writes
    got_id, got_wf, got_version, got_events = import_history(json.loads(text))
    assert (got_id, got_wf, got_version) == (eid, wf, version)
    assert [decoded(e) for e in got_events] == [decoded(e) for e in events]


@given(ids, ids, ids, histories())
def test_export_is_stable_after_one_round_trip(
    eid: str, wf: str, version: str, events: list[Event]
) -> None:
    once = export_history(eid, wf, version, events)
    again = export_history(*import_history(once))
    assert again == once


def test_export_shape() -> None:
    events: list[Event] = [
        ExecutionStarted(1000, "orders", '[["a-1"],{}]', "2", seq=1, batch=1),
        StepScheduled(1000, 1, "charge", '[[5],{"x":1}]', "default", seq=2, batch=1),
        StepCompleted(1500, 1, "charge", '"ok"', 1, seq=3, batch=3),
    ]
    assert export_history("e-1", "orders", "2", events) == {
        "execution_id": "e-1",
        "workflow": "orders",
        "version": "2",
        "events": [
            {
                "seq": 1,
                "batch": 1,
                "type": "ExecutionStarted",
                "ts": 1000,
                "ref": None,
                "name": "orders",
                "payload": [["a-1"], {}],
                "meta": {"version": "2"},
            },
            {
                "seq": 2,
                "batch": 1,
                "type": "StepScheduled",
                "ts": 1000,
                "ref": 1,
                "name": "charge",
                "payload": [[5], {"x": 1}],
                "meta": {"queue": "default"},
            },
            {
                "seq": 3,
                "batch": 3,
                "type": "StepCompleted",
                "ts": 1500,
                "ref": 1,
                "name": "charge",
                "payload": "ok",
                "meta": {"attempt": 1},
            },
        ],
    }


GOOD_EVENT = {"seq": 1, "batch": 1, "type": "ExecutionResumed", "ts": 5, "payload": None}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"execution_id": "e", "workflow": "w", "version": "1"},  # no events
        {"execution_id": "e", "workflow": "w", "events": [GOOD_EVENT]},  # no version
        {
            "execution_id": "e",
            "workflow": "w",
            "version": "1",
            "events": [{**GOOD_EVENT, "type": "Nope"}],
        },
        {
            "execution_id": "e",
            "workflow": "w",
            "version": "1",
            "events": [{**GOOD_EVENT, "ts": "soon"}],
        },
        {
            "execution_id": "e",
            "workflow": "w",
            "version": "1",
            "events": [{"type": "ExecutionStarted"}],
        },
        {"execution_id": "e", "workflow": "w", "version": "1", "events": None},
    ],
)
def test_malformed_exports_raise_history_format_error(data: dict[str, Any]) -> None:
    with pytest.raises(HistoryFormatError, match="not an exported Legato history"):
        import_history(data)


def test_optional_fields_default() -> None:
    _, _, _, events = import_history(
        {"execution_id": "e", "workflow": "w", "version": "1", "events": [GOOD_EVENT]}
    )
    assert events == [ExecutionResumed(5, seq=1, batch=1)]
