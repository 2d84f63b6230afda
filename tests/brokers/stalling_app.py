"""The app of tests/brokers/test_consumer_killed.py (``PYTHONPATH`` is this folder): like
event_app, but the first batch it records is never acknowledged. Once the batch is committed
it writes the file ``STALL_MARKER`` names and waits for ever, so the test kills the process
between the commit and the ack; a process started later finds the file and goes on."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import legato
from legato.ports.events import IngestResult


class StallingApp(legato.App):
    async def ingest_events(
        self, bodies: Sequence[bytes | str | Mapping[str, Any]], via: str
    ) -> list[IngestResult]:
        results = await super().ingest_events(bodies, via)
        marker = Path(os.environ["STALL_MARKER"])
        if not marker.exists():
            statuses = " ".join(r.status for r in results)
            marker.write_text(f"{len(results)} {statuses}\n")
            await asyncio.Event().wait()  # killed here: committed, never acked
        return results


app = StallingApp()


@app.workflow(name="on_order")
async def on_order(ctx: legato.Context, data: dict[str, Any]) -> dict[str, Any]:
    return {"order": data["order"]}
