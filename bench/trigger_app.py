"""The app ``bench/trigger_bench.py`` runs under ``legato dev``: one workflow that each event
starts (``PYTHONPATH=bench``). It does nothing, so what is measured is the path from the
event to its started execution."""

from __future__ import annotations

from typing import Any

import legato

EVENT_TYPE = "bench.event"


def register(app: legato.App) -> legato.App:
    @app.workflow(name="on_event")
    async def on_event(ctx: legato.Context, data: Any) -> None:
        return None

    return app


app = register(legato.App())
