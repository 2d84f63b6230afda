"""Parsing structured-mode CloudEvents (``legato.core.cloudevents``): what is taken, and each
way a body is refused, with the field named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.cloudevents import MAX_ATTRIBUTE, CloudEvent, parse_event
from legato.errors import InvalidEvent

GOOD = {"specversion": "1.0", "id": "e-1", "source": "shop", "type": "order.placed",
        "subject": "order/7", "time": "2026-03-29T01:00:00Z", "data": {"total": 12},
        "datacontenttype": "application/json", "ext": 1}  # fmt: skip


@pytest.mark.parametrize("form", ["bytes", "str", "mapping"])
def test_an_event_is_read_from_bytes_text_or_a_mapping(form: str) -> None:
    raw: Any = {"bytes": json.dumps(GOOD).encode(), "str": json.dumps(GOOD), "mapping": GOOD}[form]
    assert parse_event(raw) == CloudEvent(
        "e-1", "shop", "order.placed", {"total": 12}, "order/7", "2026-03-29T01:00:00Z"
    )


def test_optional_attributes_may_be_absent_or_null() -> None:
    event = parse_event({"id": "1", "source": "s", "type": "t", "subject": None})
    assert event == CloudEvent("1", "s", "t", None, None, None)
    assert event.document() == {"id": "1", "source": "s", "type": "t", "subject": None,
                                "time": None, "data": None}  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "path", "reason"),
    [
        (b"\xff\xfe{}", "$", "not UTF-8"),
        ("{not json", "$", "not JSON"),
        ('{"id": "1", "source": "s", "type": "t", "data": NaN}', "$", "not JSON"),
        ("[1, 2]", "$", "not an array"),
        ('"text"', "$", "not a string"),
        ({"source": "s", "type": "t"}, "$.id", "required attribute missing"),
        ({"id": "1", "type": "t"}, "$.source", "required attribute missing"),
        ({"id": "1", "source": "s"}, "$.type", "required attribute missing"),
        ({"id": 1, "source": "s", "type": "t"}, "$.id", "must be a string, not a number"),
        ({"id": "", "source": "s", "type": "t"}, "$.id", "must not be empty"),
        ({"id": "1", "source": "s", "type": True}, "$.type", "must be a string, not a boolean"),
        ({"id": "1", "source": "s", "type": "t", "subject": 3}, "$.subject", "must be a string"),
        ({"id": "1", "source": "s", "type": "t", "time": []}, "$.time", "not an array"),
        ({"id": "x" * (MAX_ATTRIBUTE + 1), "source": "s", "type": "t"}, "$.id", "longer than"),
    ],
)
def test_what_is_not_an_event_is_refused_naming_the_field(raw: Any, path: str, reason: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)
    assert caught.value.path == path
    assert reason.replace("not an array", "an array").replace("not a string", "a string") in (
        caught.value.reason
    )
    assert path in str(caught.value)


_attribute = st.text(min_size=1, max_size=40)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=10,
)


@given(_attribute, _attribute, _attribute, _json, st.none() | _attribute)
def test_an_event_written_as_json_reads_back_the_same(
    event_id: str, source: str, kind: str, data: Any, subject: str | None
) -> None:
    event = CloudEvent(event_id, source, kind, data, subject)
    body = json.dumps({"id": event_id, "source": source, "type": kind, "data": data,
                       "subject": subject})  # fmt: skip
    assert parse_event(body) == event
    assert parse_event(body.encode()) == event
