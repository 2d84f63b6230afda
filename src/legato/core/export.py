"""The exported form of a history (``legato executions history ID --json``), and back.

Payloads are inlined as JSON values so an exported file is readable and diffable; the replayer
turns it back into events.
"""

from __future__ import annotations

import json
from typing import Any

from legato.core.events import Event, EventType


def export_history(
    execution_id: str, workflow: str, version: str, events: list[Event]
) -> dict[str, Any]:
    return {
        "execution_id": execution_id,
        "workflow": workflow,
        "version": version,
        "events": [
            {
                "seq": e.seq,
                "batch": e.batch,
                "type": e.type.value,
                "ts": e.ts,
                "ref": e.ref,
                "name": e.name,
                "payload": None if e.payload is None else json.loads(e.payload),
                "meta": e.meta,
            }
            for e in events
        ],
    }


class HistoryFormatError(ValueError):
    pass


def import_history(data: dict[str, Any]) -> tuple[str, str, str, list[Event]]:
    """Returns (execution_id, workflow, version, events); raises ``HistoryFormatError``."""
    try:
        events = [
            Event(
                type=EventType(e["type"]),
                ts=int(e["ts"]),
                ref=e.get("ref"),
                name=e.get("name"),
                payload=None if e.get("payload") is None else json.dumps(e["payload"]),
                meta=e.get("meta") or {},
                seq=int(e["seq"]),
                batch=int(e["batch"]),
            )
            for e in data["events"]
        ]
        return str(data["execution_id"]), str(data["workflow"]), str(data["version"]), events
    except (KeyError, TypeError, ValueError) as exc:
        raise HistoryFormatError(f"not an exported Legato history: {exc}") from exc
