"""Durations as users give them (seconds, or a ``timedelta``), in the units the engine keeps."""

from __future__ import annotations

from datetime import timedelta


def seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def optional_seconds(value: float | timedelta | None) -> float | None:
    return None if value is None else seconds(value)


def to_ms(value: float | timedelta) -> int:
    """Whole milliseconds, as every timestamp and deadline is stored."""
    return round(seconds(value) * 1000)
