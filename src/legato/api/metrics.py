"""``GET /metrics``: the Prometheus text exposition of this process (``legato.engine.metrics``).

The counters and histograms are this process's own; the queue and replica gauges are read
from the store for each scrape, so they describe the whole cluster. A store that cannot be read
does not fail the scrape (the process's own figures still matter most then): its gauges are
left out and ``legato_store_up`` is 0.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from legato.api.deps import LegatoApp
from legato.core.durations import to_ms
from legato.engine import metrics
from legato.errors import LegatoError

log = logging.getLogger("legato.api")
STORE_PATIENCE = 5.0  # seconds a scrape waits for the store's gauges before it leaves them out

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def scrape(app: LegatoApp) -> Response:
    """Prometheus' text format (``text/plain; version=0.0.4``), not JSON: kept out of the
    OpenAPI schema, which describes the JSON API."""
    try:
        store = await asyncio.wait_for(app.store_ready(), STORE_PATIENCE)
        now = app.clock.now_ms()
        queues = await asyncio.wait_for(store.queue_stats(now), STORE_PATIENCE)
        live_ms = to_ms(app.lease_seconds)
        replicas = await asyncio.wait_for(store.live_replicas(now, live_ms), STORE_PATIENCE)
    except (LegatoError, TimeoutError) as exc:
        log.warning("metrics: the store's gauges are left out of this scrape (%s)", exc)
        metrics.scrape_failed()
    else:
        metrics.scraped(now, queues, replicas)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
