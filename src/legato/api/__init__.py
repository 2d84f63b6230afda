"""Legato's HTTP API (FastAPI): what ``legato server`` and ``legato dev`` serve beside the
engine, so that any language can start, watch and operate executions, and remote workers can
run steps with no database access. ``create_api`` builds it around an ``App``; ``serve`` runs
it on uvicorn inside the engine's event loop."""

from legato.api.server import create_api
from legato.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_api"]
