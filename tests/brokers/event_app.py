"""The app ``legato dev`` runs in tests/brokers/test_cli_event_sources.py (``PYTHONPATH`` is
this folder): one workflow each ``order.placed`` event starts."""

from __future__ import annotations

from typing import Any

import legato

EVENT_TYPE = "order.placed"
app = legato.App()


@app.workflow(name="on_order")
async def on_order(ctx: legato.Context, data: dict[str, Any]) -> dict[str, Any]:
    return {"order": data["order"]}
