"""What started an execution, recorded with it (``executions.started_by``): a JSON object whose
``kind`` says which trigger, so an operator can go from an execution to the schedule fire or
the event that caused it, and back. None (NULL) means code, the CLI or a parent started it.

The shapes are fixed here, once, for every path that starts executions:

- ``{"kind": "api"}``: a start through the HTTP API;
- ``{"kind": "schedule", "schedule": NAME, "fire_time": ISO, "backfill": bool}`` (``"manual":
  true`` for a schedule triggered by hand);
- ``{"kind": "event", "subscription": NAME, "source": S, "id": I, "type": T}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legato.core import codec

API: dict[str, Any] = {"kind": "api"}


def schedule_fire(
    schedule: str, fire_time: str, *, backfill: bool = False, manual: bool = False
) -> dict[str, Any]:
    """A schedule's fire at ``fire_time`` (ISO 8601, UTC, ``Z``)."""
    by: dict[str, Any] = {"kind": "schedule", "schedule": schedule, "fire_time": fire_time,
                          "backfill": backfill}  # fmt: skip
    if manual:
        by["manual"] = True
    return by


def event(subscription: str, source: str, event_id: str, event_type: str) -> dict[str, Any]:
    """An event (``source`` + ``id``) matched by ``subscription``."""
    return {"kind": "event", "subscription": subscription, "source": source, "id": event_id,
            "type": event_type}  # fmt: skip


def encode(started_by: Mapping[str, Any] | None) -> str | None:
    """As stored: compact JSON, ``kind`` first; None for none."""
    if not started_by:
        return None
    if "kind" not in started_by:
        raise ValueError("started_by needs a 'kind'")
    return codec.dumps(dict(started_by), "started_by")


def decode(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    value = codec.loads(text)
    return value if isinstance(value, dict) else None


def describe(started_by: Mapping[str, Any] | None) -> str:
    """One line for people (``legato executions show``)."""
    if not started_by:
        return "code or the CLI"
    kind = started_by.get("kind")
    if kind == "api":
        return "the HTTP API"
    if kind == "schedule":
        how = " (backfill)" if started_by.get("backfill") else ""
        how = " (triggered by hand)" if started_by.get("manual") else how
        return (
            f"schedule {started_by.get('schedule')}, fire time {started_by.get('fire_time')}{how}"
        )
    if kind == "event":
        return (
            f"event {started_by.get('type')} from {started_by.get('source')} "
            f"(id {started_by.get('id')}), subscription {started_by.get('subscription')}"
        )
    return codec.dumps(dict(started_by), "started_by")
