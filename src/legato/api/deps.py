"""What a route needs, as FastAPI dependencies: the ``App`` the server runs (its engine, its
store and its registry) and the server's settings. Each is ``async``: FastAPI runs a plain
``def`` dependency on a worker thread, a thread hop per request for a field read."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request

from legato.api.settings import ApiSettings
from legato.client import App


async def _app(request: Request) -> App:
    app: App = request.app.state.legato
    return app


async def _closing(request: Request) -> asyncio.Event:
    closing: asyncio.Event = request.app.state.closing
    return closing


async def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


LegatoApp = Annotated[App, Depends(_app)]
Settings = Annotated[ApiSettings, Depends(_settings)]
#: set once the server stops: a long poll answers at once rather than hold the stop
Closing = Annotated[asyncio.Event, Depends(_closing)]
