"""What a route needs, as FastAPI dependencies: the ``App`` the server runs (its engine, its
store and its registry) and the server's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from legato.api.settings import ApiSettings
from legato.client import App


def _app(request: Request) -> App:
    app: App = request.app.state.legato
    return app


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


LegatoApp = Annotated[App, Depends(_app)]
Settings = Annotated[ApiSettings, Depends(_settings)]
