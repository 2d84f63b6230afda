"""The exported form of a history (``legato executions history ID --json``), and back.

Each event is its stored row (``legato.core.event_rows``) with the payload inlined as a JSON
value, so an exported file is readable and diffable; the replayer turns it back into events.
This format is pinned by the golden histories under ``tests/golden/``.
"""

from __future__ import annotations

from typing import Any

from legato.core import codec
from legato.core.event_rows import EventFormatError, from_row, to_row
from legato.core.events import Event


def export_history(
    execution_id: str, workflow: str, version: str, events: list[Event]
) -> dict[str, Any]:
    out = []
    for e in events:
        row = to_row(e)
        out.append(
            {
                "seq": e.seq,
                "batch": e.batch,
                "type": row.type,
                "ts": row.ts,
                "ref": row.ref,
                "name": row.name,
                "payload": codec.loads(row.payload),
                "meta": row.meta,
            }
        )
    return {"execution_id": execution_id, "workflow": workflow, "version": version, "events": out}


class HistoryFormatError(ValueError):
    pass


def import_history(data: dict[str, Any]) -> tuple[str, str, str, list[Event]]:
    """Returns (execution_id, workflow, version, events); raises ``HistoryFormatError``."""
    try:
        events = [
            from_row(
                e["type"],
                int(e["ts"]),
                e.get("ref"),
                e.get("name"),
                None if e.get("payload") is None else codec.dumps(e["payload"], "payload"),
                e.get("meta") or {},
                int(e["seq"]),
                int(e["batch"]),
            )
            for e in data["events"]
        ]
        return str(data["execution_id"]), str(data["workflow"]), str(data["version"]), events
    except (KeyError, TypeError, ValueError, EventFormatError) as exc:
        raise HistoryFormatError(f"not an exported Legato history: {exc}") from exc
