"""Time as the engine keeps it: a duration users give (seconds, or a ``timedelta``) in seconds
or whole milliseconds, and every instant as epoch milliseconds (UTC), turned into a
``datetime`` only where a person or user code reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def optional_seconds(value: float | timedelta | None) -> float | None:
    return None if value is None else seconds(value)


def to_ms(value: float | timedelta) -> int:
    """A duration in whole milliseconds, as every timestamp and deadline is stored."""
    return round(seconds(value) * 1000)


def instant(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)
