"""Exported histories (legato.core.export): the JSON form and back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.events import Event, EventType
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
payloads = st.none() | json_values.map(json.dumps)
metas = st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=5)


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(0, 12))
    events = []
    batch = 1
    for seq in range(1, n + 1):
        if seq > 1 and draw(st.booleans()):
            batch = seq
        events.append(
            Event(
                type=draw(st.sampled_from(list(EventType))),
                ts=draw(st.integers(0, 2**50)),
                ref=draw(st.none() | st.integers(1, 10_000)),
                name=draw(st.none() | st.text(max_size=20)),
                payload=draw(payloads),
                meta=draw(metas),
                seq=seq,
                batch=batch,
            )
        )
    return events


def decoded(e: Event) -> tuple[Any, ...]:
    """An event with its payload as a value: JSON text is compared by meaning, not spelling."""
    value = None if e.payload is None else json.loads(e.payload)
    return (e.type, e.ts, e.ref, e.name, value, e.meta, e.seq, e.batch)


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
    events = [
        Event(
            EventType.EXECUTION_STARTED,
            ts=1000,
            name="orders",
            payload='[["a-1"],{}]',
            meta={"version": "2"},
            seq=1,
            batch=1,
        ),
        Event(
            EventType.STEP_SCHEDULED,
            ts=1000,
            ref=1,
            name="charge",
            payload='[[5],{"x":1}]',
            meta={"queue": "default"},
            seq=2,
            batch=1,
        ),
        Event(
            EventType.STEP_COMPLETED,
            ts=1500,
            ref=1,
            name="charge",
            payload='"ok"',
            meta={"attempt": 1},
            seq=3,
            batch=3,
        ),
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


GOOD_EVENT = {"seq": 1, "batch": 1, "type": "ExecutionStarted", "ts": 5, "payload": None}


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
    assert events == [
        Event(
            EventType.EXECUTION_STARTED,
            ts=5,
            ref=None,
            name=None,
            payload=None,
            meta={},
            seq=1,
            batch=1,
        )
    ]
