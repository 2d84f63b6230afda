"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: the database is
reachable and its schema is this code's)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel

from legato.api.deps import LegatoApp
from legato.api.problems import Problem, problem_responses
from legato.errors import LegatoError

READY_PATIENCE = 5.0  # seconds /readyz waits for the database before it says it is not ready

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up and answering."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=problem_responses(503))
async def readyz(app: LegatoApp) -> Health:
    """The database answers and its schema has every migration of this code; else 503."""
    try:
        store = await asyncio.wait_for(app.store_ready(), READY_PATIENCE)
        missing = await asyncio.wait_for(store.missing_migrations(), READY_PATIENCE)
    except TimeoutError:
        raise Problem(
            503, "not-ready", f"the database did not answer within {READY_PATIENCE:g}s"
        ) from None
    except LegatoError as exc:
        raise Problem(503, "not-ready", f"the database cannot be used: {exc}") from None
    if missing:
        numbers = ", ".join(f"{m:04d}" for m in missing)
        raise Problem(
            503,
            "not-ready",
            f"the database schema lacks migration(s) {numbers} of this code: run legato migrate",
            missing_migrations=missing,
        )
    return Health(status="ready")
