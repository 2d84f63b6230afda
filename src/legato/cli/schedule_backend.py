"""Where ``legato schedules`` reads and operates schedules: the database (``--db``, through an
``App`` with no engine: the engine serving the database fires them) or a server's HTTP API
(``--server``, through ``legato.Client``). Both answer in the API's JSON shapes
(``client/schedule_views.py``), so each command prints the same whichever it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from legato.cli.common import database_url
from legato.cli.loading import load_app
from legato.client import App, Client
from legato.client import schedule_views as views
from legato.errors import ConfigurationError

Progress = Callable[[int, int], None]


class Schedules(Protocol):
    async def create(self, name: str, workflow: str, fields: dict[str, Any]) -> dict[str, Any]:
        """``fields``: the create body's other fields (``api/schedules.py``)."""
        ...

    async def update(self, name: str, fields: dict[str, Any]) -> dict[str, Any]:
        """``fields``: the update body's (``api/schedules.py``)."""
        ...

    async def every(self) -> list[dict[str, Any]]: ...
    async def show(self, name: str, count: int) -> dict[str, Any]:
        """The schedule with its next ``count`` fire times (``next_fire_times``)."""
        ...

    async def runs(self, name: str, limit: int) -> list[dict[str, Any]]: ...
    async def pause(self, name: str, note: str | None) -> dict[str, Any]: ...
    async def resume(self, name: str) -> dict[str, Any]: ...
    async def trigger(self, name: str) -> str:
        """The id of the execution it started."""
        ...

    async def delete(self, name: str) -> None: ...
    async def backfill(
        self, name: str, start: datetime, end: datetime, on_progress: Progress
    ) -> dict[str, Any]: ...


@contextlib.asynccontextmanager
async def open_schedules(
    db: str | None, server: str | None, api_key: str | None, app_module: str | None = None
) -> AsyncIterator[Schedules]:
    """``--server``: its API; else the database, through the ``--app`` module's App (a
    schedule of a code workflow needs the app that registers it) or a bare one (enough for
    stored state machines and for everything but create, update, trigger and backfill)."""
    if server and (db or app_module):
        raise ConfigurationError("give --db (and --app) or --server, not both")
    if server:
        async with Client(server, api_key=api_key) as client:
            yield HttpSchedules(client)
        return
    app = load_app(app_module) if app_module else App()
    app.configure(url=database_url(db, app.url if app_module else None))
    try:
        yield DbSchedules(app)
    finally:
        await app.shutdown()


class DbSchedules:
    """The database, through an ``App`` that runs no engine."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def create(self, name: str, workflow: str, fields: dict[str, Any]) -> dict[str, Any]:
        return await views.create(self.app, {"name": name, "workflow": workflow, **fields})

    async def update(self, name: str, fields: dict[str, Any]) -> dict[str, Any]:
        return await views.update(self.app, name, fields)

    async def every(self) -> list[dict[str, Any]]:
        return await views.listed(self.app)

    async def show(self, name: str, count: int) -> dict[str, Any]:
        return await views.described(self.app, name, count)

    async def runs(self, name: str, limit: int) -> list[dict[str, Any]]:
        return await views.runs(self.app, name, limit)

    async def pause(self, name: str, note: str | None) -> dict[str, Any]:
        return await views.shown(self.app, await self.app.pause_schedule(name, note))

    async def resume(self, name: str) -> dict[str, Any]:
        return await views.shown(self.app, await self.app.resume_schedule(name))

    async def trigger(self, name: str) -> str:
        handle = await self.app.trigger_schedule(name)
        return handle.id

    async def delete(self, name: str) -> None:
        await self.app.delete_schedule(name)

    async def backfill(
        self, name: str, start: datetime, end: datetime, on_progress: Progress
    ) -> dict[str, Any]:
        return await views.backfill(self.app, name, start, end, on_progress)


class HttpSchedules:
    """A Legato server's ``/v1/schedules``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def create(self, name: str, workflow: str, fields: dict[str, Any]) -> dict[str, Any]:
        body = {"name": name, "workflow": workflow, **fields}
        answer: dict[str, Any] = await self.client.transport.call(
            "POST", "/v1/schedules", json=body
        )
        return answer

    async def update(self, name: str, fields: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await self.client.transport.call(
            "PATCH", "/v1/schedules/" + quote(name, safe=""), json=fields
        )
        return answer

    async def every(self) -> list[dict[str, Any]]:
        return await self.client.list_schedules()

    async def show(self, name: str, count: int) -> dict[str, Any]:
        shown = await self.client.get_schedule(name)
        if count == 0:
            shown["next_fire_times"] = []
        elif count != len(shown.get("next_fire_times") or []):
            times = await self.client.next_fire_times(name, count)
            shown["next_fire_times"] = [views.iso_ms(views.epoch(t)) for t in times]
        return shown

    async def runs(self, name: str, limit: int) -> list[dict[str, Any]]:
        return await self.client.schedule_runs(name, limit)

    async def pause(self, name: str, note: str | None) -> dict[str, Any]:
        return await self.client.pause_schedule(name, note)

    async def resume(self, name: str) -> dict[str, Any]:
        return await self.client.resume_schedule(name)

    async def trigger(self, name: str) -> str:
        return (await self.client.trigger_schedule(name)).id

    async def delete(self, name: str) -> None:
        await self.client.delete_schedule(name)

    async def backfill(
        self, name: str, start: datetime, end: datetime, on_progress: Progress
    ) -> dict[str, Any]:
        return await self.client.backfill_schedule(name, start, end, on_progress)
