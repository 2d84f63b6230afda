"""Where a command reads and operates executions: the database (``--db``) or a Legato server's
HTTP API (``--server URL``, with ``--api-key``). One seam: the commands call a ``Backend``
and print what it returns the same way whichever it is; ``open_backend`` picks it.

The database backend reads read-only and acts through an ``App`` with no engine, as before;
the HTTP backend is ``legato.Client``. What only the database knows (an id given by its first
characters, the steps that wait for a retry or for a worker) is the database backend's alone:
over HTTP an id is whole and those lists are empty.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import typer

from legato.cli.common import database_url, locate, reading
from legato.cli.lookup import find_execution
from legato.client import App, Client, ExecutionStatus
from legato.core import codec
from legato.core.events import Event, Status
from legato.errors import ConfigurationError, DefinitionNotFound
from legato.ports.inspection import RetryingStep
from legato.ports.workers import WaitingStep

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="LEGATO_SERVER",
        metavar="URL",
        help="a Legato server's URL (http://host:8233): go through its HTTP API instead of "
        "the database",
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="LEGATO_API_KEY",
        metavar="KEY",
        help="the API key for --server (legato keys create)",
        show_default=False,
    ),
]
RETRYING_IN_SHOW = 20  # `show` lists this many of an execution's retrying steps (gather: many)


@dataclass
class Listed:
    rows: list[ExecutionStatus]
    more: int | None  # how many beyond the limit; None: some, uncounted (the API pages)


@dataclass
class Shown:
    status: ExecutionStatus
    input: Any
    output: str | None  # the output's JSON text (COMPLETED only)
    now_ms: int
    retrying: list[RetryingStep] = field(default_factory=list)
    waiting: list[WaitingStep] = field(default_factory=list)


@dataclass
class History:
    execution_id: str
    workflow: str
    version: str
    events: list[Event]


class Backend(Protocol):
    async def list_executions(
        self, status: Status | None, workflow: str | None, limit: int
    ) -> Listed: ...
    async def show(self, execution_id: str) -> Shown: ...
    async def history(self, execution_id: str) -> History: ...
    async def signal(self, execution_id: str, name: str, payload: Any) -> None: ...
    async def cancel(self, execution_id: str, reason: str | None) -> None: ...
    async def terminate(self, execution_id: str, reason: str | None) -> None: ...
    async def redrive(self, execution_id: str) -> None: ...
    async def resume(self, execution_id: str) -> None: ...
    async def start(
        self, workflow: str, args: list[Any], kwargs: dict[str, Any], execution_id: str | None
    ) -> str:
        """Start an execution; its id."""
        ...

    # definitions, in the API's JSON shapes (``legato.ports.definitions`` ``as_json``)
    async def push_definition(
        self, name: str, definition: dict[str, Any], version: str | None
    ) -> dict[str, Any]:
        """``{name, version, content_hash, created_at, created}``"""
        ...

    async def list_definitions(self) -> list[dict[str, Any]]:
        """``[{name, latest_version, versions, created_at}]``"""
        ...

    async def get_definition(self, name: str, version: str | None) -> dict[str, Any]:
        """``{name, version, content_hash, created_at, definition}``; ``DefinitionNotFound``"""
        ...


@contextlib.asynccontextmanager
async def open_backend(
    db: str | None,
    server: str | None,
    api_key: str | None,
    app: App | None = None,
    app_module: str | None = None,
    *,
    creating: bool = False,
) -> AsyncIterator[Backend]:
    """``--server`` (or ``$LEGATO_SERVER``): the API; else the database (``common.locate``:
    ``--db``, ``$LEGATO_DB``, the app's), with ``app`` (``--app``) to start executions of its
    workflows (``creating``: a command that writes, a start or a push, makes the database if
    it is not there yet, as ``App`` does)."""
    if server and db:
        raise ConfigurationError("give --db or --server, not both")
    if server:
        async with Client(server, api_key=api_key) as client:
            yield HttpBackend(client)
    else:
        app_url = None if app is None else app.url
        url = database_url(db, app_url) if creating else locate(db, app_module, app_url=app_url)
        yield DbBackend(url, app)


def _now_ms() -> int:
    return int(time.time() * 1000)


class DbBackend:
    """The database: reads on a read-only view, operations through an ``App`` with no engine
    (the engine serving the database carries them out)."""

    def __init__(self, db: str | None, app: App | None = None) -> None:
        self.db = db
        self.app = app

    async def list_executions(
        self, status: Status | None, workflow: str | None, limit: int
    ) -> Listed:
        async with reading(self.db) as store:
            found = await store.list_executions(status, workflow, limit)
            more = 0
            if len(found) == limit:  # there may be more: count them
                more = max(await store.count_executions(status, workflow) - limit, 0)
        return Listed([ExecutionStatus.from_row(r) for r in found], more)

    async def show(self, execution_id: str) -> Shown:
        now = _now_ms()
        async with reading(self.db) as store:
            row = await find_execution(store, execution_id)
            shown = Shown(ExecutionStatus.from_row(row), codec.loads(row.input), row.output, now)
            if row.status is Status.RUNNING:
                shown.retrying = await store.retrying_steps(now, RETRYING_IN_SHOW, row.id)
                shown.waiting = await store.waiting_steps(row.id, now)
        return shown

    async def history(self, execution_id: str) -> History:
        async with reading(self.db) as store:
            row = await find_execution(store, execution_id)
            events = await store.load_history(row.id)
        return History(row.id, row.workflow, row.version, events)

    async def _act(self, execution_id: str, op: str, *args: Any) -> None:
        app = App(database_url(self.db))
        try:
            await getattr(app, op)(execution_id, *args)
        finally:
            await app.shutdown()

    async def signal(self, execution_id: str, name: str, payload: Any) -> None:
        await self._act(execution_id, "signal", name, payload)

    async def cancel(self, execution_id: str, reason: str | None) -> None:
        await self._act(execution_id, "cancel", reason)

    async def terminate(self, execution_id: str, reason: str | None) -> None:
        await self._act(execution_id, "terminate", reason)

    async def redrive(self, execution_id: str) -> None:
        await self._act(execution_id, "redrive")

    async def resume(self, execution_id: str) -> None:
        await self._act(execution_id, "resume")

    async def start(
        self, workflow: str, args: list[Any], kwargs: dict[str, Any], execution_id: str | None
    ) -> str:
        app = self.app
        if app is None:
            raise ConfigurationError(
                f"legato start needs --app MODULE: the module whose legato.App registers "
                f"workflow {workflow!r} (as for legato dev), or --server URL"
            )
        app.configure(url=database_url(self.db, app.url))
        try:
            handle = await app.start(workflow, *args, id=execution_id, **kwargs)
        finally:
            await app.shutdown()
        return handle.id

    async def push_definition(
        self, name: str, definition: dict[str, Any], version: str | None
    ) -> dict[str, Any]:
        app = App(database_url(self.db))
        try:
            put = await app.push_definition(name, definition, version)
        finally:
            await app.shutdown()
        return {**put.stored.as_json(definition=False), "created": put.created}

    async def list_definitions(self) -> list[dict[str, Any]]:
        async with reading(self.db) as store:
            return [s.as_json() for s in await store.list_definitions()]

    async def get_definition(self, name: str, version: str | None) -> dict[str, Any]:
        async with reading(self.db) as store:
            stored = await store.get_definition(name, version)
        if stored is None:
            raise DefinitionNotFound(name, version)
        return stored.as_json()


def _stored_call(kind: str | None, shown: Any) -> Any:
    """The API's input (a state machine's value; a code workflow's ``{args, kwargs}``) as the
    database holds it, ``[args, kwargs]``, so both backends print the same."""
    if kind == "state_machine":
        return [[shown], {}]
    if isinstance(shown, dict) and "args" in shown:
        return [shown["args"], shown.get("kwargs") or {}]
    return shown


class HttpBackend:
    """A Legato server's HTTP API, through ``legato.Client``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def list_executions(
        self, status: Status | None, workflow: str | None, limit: int
    ) -> Listed:
        rows: list[ExecutionStatus] = []
        more: int | None = 0
        async for execution in self.client.iter_executions(
            status, workflow=workflow, page=min(limit + 1, 500)
        ):
            if len(rows) == limit:  # one beyond the limit: there are more
                more = None
                break
            rows.append(execution.status)
        return Listed(rows, more)

    async def show(self, execution_id: str) -> Shown:
        now = _now_ms()
        execution = await self.client.get_handle(execution_id).describe()
        output = None
        if execution.status.status == Status.COMPLETED:
            output = codec.dumps(execution.output, "output")
        return Shown(execution.status, _stored_call(execution.kind, execution.input), output, now)

    async def history(self, execution_id: str) -> History:
        handle = self.client.get_handle(execution_id)
        status = await handle.status()
        events = await handle.history()
        return History(status.id, status.workflow, status.version, events)

    async def signal(self, execution_id: str, name: str, payload: Any) -> None:
        await self.client.signal(execution_id, name, payload)

    async def cancel(self, execution_id: str, reason: str | None) -> None:
        await self.client.cancel(execution_id, reason)

    async def terminate(self, execution_id: str, reason: str | None) -> None:
        await self.client.terminate(execution_id, reason)

    async def redrive(self, execution_id: str) -> None:
        await self.client.redrive(execution_id)

    async def resume(self, execution_id: str) -> None:
        await self.client.resume(execution_id)

    async def start(
        self, workflow: str, args: list[Any], kwargs: dict[str, Any], execution_id: str | None
    ) -> str:
        handle = await self.client.start_with(workflow, args, kwargs, id=execution_id)
        return handle.id

    async def push_definition(
        self, name: str, definition: dict[str, Any], version: str | None
    ) -> dict[str, Any]:
        return await self.client.push_definition(name, definition, version=version)

    async def list_definitions(self) -> list[dict[str, Any]]:
        return await self.client.list_definitions()

    async def get_definition(self, name: str, version: str | None) -> dict[str, Any]:
        return await self.client.get_definition(name, version)
