"""The FastAPI application: its routers, error handling and limits, around one ``App``.

Each resource is a router module of its own (``health``, ``definitions``, ``executions``, ...);
``ROUTERS`` is the one list of them. Routes reach the app through ``legato.api.deps``.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig

from legato.api import (
    activities,
    cluster,
    definitions,
    events,
    executions,
    graphs,
    health,
    metrics,
    problems,
    schedules,
    tokens,
    ui,
    workers,
    workflows,
)
from legato.api.body_limit import BodyLimit
from legato.api.fast_start import StartFastPath
from legato.api.keys import RequireKeys, document, store_cache
from legato.api.path_ids import KeepEncodedSlashes
from legato.api.settings import ApiSettings
from legato.client import App

ROUTERS: list[APIRouter] = [
    health.router,
    definitions.router,
    graphs.router,
    executions.router,
    workflows.router,
    tokens.router,
    workers.router,
    activities.router,
    schedules.router,
    events.router,
    metrics.router,
    cluster.router,
    ui.router,  # the web UI: its page and assets, not in the schema
]

DESCRIPTION = """\
Start, watch and operate Legato executions from any language, register state machine
definitions, schedule workflows, and run steps on remote workers. Errors are RFC 9457 problem
details (`application/problem+json`)."""


def _telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry: a span per request once a tracer provider is set (an
    execution started by the request joins its trace, ``engine/tracing.py``); not its metrics
    or logs, which would ask OpenTelemetry's providers on every request for nothing
    (``/metrics`` is prometheus-client's)."""
    return {"tracing": True, "metrics": False, "logs": False}


def create_api(app: App, settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    api = FastAPI(
        telemetry=_telemetry(),
        title="Legato",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    api.state.legato = app
    api.state.settings = settings
    api.state.closing = asyncio.Event()  # set when the server stops: long polls answer now
    problems.install(api)
    for router in ROUTERS:
        api.include_router(router)
    api.add_middleware(StartFastPath, api=api)  # innermost: behind the limit and the keys
    api.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    api.add_middleware(KeepEncodedSlashes)  # a child's id (parent/3) in a path
    if settings.keys_required:  # outermost: a request without a key learns nothing else
        api.state.keys = store_cache(app)
        api.add_middleware(RequireKeys, cache=api.state.keys)
        document(api)
    return api
