"""Legato's HTTP API (FastAPI): what ``legato server`` and ``legato dev`` serve beside the
engine, so that any language can start, watch and operate executions, and remote workers can
run steps with no database access. ``legato.api.server.create_api`` builds it around an
``App``; ``legato.api.serve.ApiServer`` runs it on uvicorn inside the engine's event loop.

Nothing is imported here: a process that serves no API (a worker, a CLI command) does not pay
for FastAPI's import."""
