"""Events as they arrive: structured-mode CloudEvents JSON (CloudEvents 1.0, "JSON Event Format").

An event is a JSON object with the required context attributes ``id``, ``source`` and ``type``
(non-empty strings), optional ``subject`` and ``time`` (strings), and ``data`` (any JSON; absent
is null). ``specversion`` is optional here (a webhook or a bus message often lacks it) and
``datacontenttype`` and extension attributes are ignored: the body of an event Legato acts on is
its ``data``. What cannot be read raises ``InvalidEvent`` naming the field, so an HTTP caller
gets a 422 saying which, and a bus message goes to the dead letters with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import pydantic_core

from legato.core.events import JSON
from legato.errors import InvalidEvent

#: Longest ``id``, ``source``, ``type`` or ``subject`` taken (they are keys and labels, not data).
MAX_ATTRIBUTE = 1024
_REQUIRED = ("id", "source", "type")
_OPTIONAL = ("subject", "time")


@dataclass(frozen=True, slots=True)
class CloudEvent:
    id: str
    source: str
    type: str
    data: JSON = None
    subject: str | None = None
    time: str | None = None

    def document(self) -> dict[str, JSON]:
        """The event as one JSON object: what a subscription's filter and transform see."""
        return {"id": self.id, "source": self.source, "type": self.type,
                "subject": self.subject, "time": self.time, "data": self.data}  # fmt: skip


Raw = bytes | str | Mapping[str, object]


def parse_event(raw: Raw) -> CloudEvent:
    """One event from a body (JSON bytes or text) or an already decoded object."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode()
        except UnicodeDecodeError as exc:
            raise InvalidEvent(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if isinstance(raw, str):
        try:
            value = pydantic_core.from_json(raw, allow_inf_nan=False)
        except ValueError as exc:
            raise InvalidEvent(f"not JSON: {exc}") from None
    else:
        value = raw
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"an event is a JSON object, not {_kind(value)}")
    fields: dict[str, str | None] = {}
    for name in _REQUIRED:
        item = value.get(name)
        if item is None:
            raise InvalidEvent("required attribute missing", f"$.{name}")
        fields[name] = _string(item, name)
        if not item:
            raise InvalidEvent("must not be empty", f"$.{name}")
    for name in _OPTIONAL:
        item = value.get(name)
        fields[name] = None if item is None else _string(item, name)
    data = cast(JSON, value.get("data"))
    return CloudEvent(
        cast(str, fields["id"]), cast(str, fields["source"]), cast(str, fields["type"]),
        data, fields["subject"], fields["time"],
    )  # fmt: skip


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidEvent(f"must be a string, not {_kind(value)}", f"$.{name}")
    if len(value) > MAX_ATTRIBUTE:
        raise InvalidEvent(f"longer than {MAX_ATTRIBUTE} characters", f"$.{name}")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
