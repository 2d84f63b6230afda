"""Timestamps as the Amazon States Language reads and writes them.

ASL spec, "Timestamps": timestamps are strings conforming to RFC3339 (the profile of ISO 8601
with an upper-case "T" between date and time and a "Z" or a numeric offset, and optional
fractional seconds). The context object and Wait states use them.
"""

from __future__ import annotations

import re
from datetime import datetime

from legato.core.durations import instant

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def parse_timestamp(text: object) -> datetime | None:
    """The instant an RFC3339 string names, or None if it is not one (ASL "Timestamps")."""
    if not isinstance(text, str):
        return None
    m = _RFC3339.match(text)
    if m is None:
        return None
    frac = (m.group(7) or "")[:7]  # Python keeps microseconds: drop finer digits
    iso = text[: m.start(7)] if m.group(7) else text[: m.start(8)]
    if frac:
        iso += frac[:7].ljust(7, "0")
    zone = m.group(8)
    iso += "+00:00" if zone == "Z" else zone
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def format_timestamp(epoch_ms: int) -> str:
    """``2024-05-01T12:00:00.123Z``: the form Step Functions uses in the context object."""
    moment = instant(epoch_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
