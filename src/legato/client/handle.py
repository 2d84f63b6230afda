"""Execution handles: what ``App.start`` and ``App.get_handle`` return.

Every read a handle makes rides through a database restart (``App._retrying``); ``result``
waits on the local orchestrator when it decides the execution, otherwise on the app's one
shared poll (``engine.closed_watch``), and stops waiting at whatever leaves the execution
without a result to come (``client.outcomes``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from legato.client.labels import decode_labels
from legato.client.outcomes import RUNNING, error_for
from legato.core import codec, started_by
from legato.core.durations import instant, optional_seconds
from legato.core.events import CLOSED_STATUSES, Event, Status, SuspendKind
from legato.core.transition import ExecutionUpdate
from legato.engine.registry import WorkflowDef
from legato.errors import (
    ExecutionNotFound,
    LegatoError,
    SerializationError,
    WorkflowTimeoutError,
)
from legato.ports.executions import ExecutionRow
from legato.ports.store import Store

if TYPE_CHECKING:
    from legato.client.app import App

R = TypeVar("R")
STATUS_PATIENCE = 2.0  # seconds a timed-out result() spends finding where the execution stands


@dataclass(frozen=True)
class ExecutionStatus:
    id: str
    workflow: str
    version: str
    status: Status
    current_step: str | None
    reason: str | None
    error_type: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    labels: dict[str, str] = field(default_factory=dict)
    #: what started it (``legato.core.started_by``), None for code, the CLI or a parent
    started_by: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: ExecutionRow) -> ExecutionStatus:
        def ts(ms: int | None) -> datetime | None:
            return None if ms is None else instant(ms)

        return cls(
            row.id,
            row.workflow,
            row.version,
            row.status,
            row.current_step,
            row.reason,
            row.error_type,
            row.error_message,
            ts(row.created_at) or datetime.now(UTC),
            ts(row.updated_at) or datetime.now(UTC),
            ts(row.closed_at),
            decode_labels(row.labels),
            started_by.decode(row.started_by),
        )


class Handle(Generic[R]):
    def __init__(self, app: App, execution_id: str, workflow: WorkflowDef | None = None) -> None:
        self.app = app
        self.id = execution_id
        self._workflow = workflow
        #: False when ``start`` found this execution already recorded (same id and input)
        self.created = True
        #: the row a new execution's start committed (None if it existed, or for a handle
        #: made later): what the start answers with, without reading it back
        self.started_row: ExecutionRow | None = None

    def __repr__(self) -> str:
        return f"Handle({self.id!r})"

    async def status(self) -> ExecutionStatus:
        return ExecutionStatus.from_row(await self.status_row())

    async def status_row(self) -> ExecutionRow:
        return await self.app._retrying(f"reading execution {self.id!r}", self._load)

    async def _load(self, store: Store) -> ExecutionRow:
        row = await store.load_execution(self.id)
        if row is None:
            raise ExecutionNotFound(self.id)
        return row

    async def result(self, timeout: float | timedelta | None = None) -> R:
        """The workflow's return value. Raises, as soon as there is none to wait for,
        ``ExecutionSuspended`` (it waits for an operator) or ``ExecutionFailedError`` (or its
        subclass for the status it ended in); ``WorkflowTimeoutError``, saying where the
        execution stands, once ``timeout`` runs out."""
        seconds = optional_seconds(timeout)
        try:
            settled = await asyncio.wait_for(self._wait_settled(), seconds)
        except TimeoutError:
            raise WorkflowTimeoutError(await self._unfinished(seconds)) from None
        if settled.status != Status.COMPLETED:
            raise error_for(self.id, settled)
        wf = self._workflow
        if wf is None:
            row = await self.status_row()
            wf = self.app.registry.lookup_workflow(row.workflow, row.version)
        try:
            if wf is None:
                return codec.loads(settled.output)  # type: ignore[no-any-return]
            return wf.signature.decode_result(settled.output or "null")  # type: ignore[no-any-return]
        except ValueError as exc:  # the recorded result does not fit this app's annotation
            workflow = f" (workflow {wf.name!r})" if wf else ""
            raise SerializationError(
                f"result of execution {self.id!r}{workflow} cannot be read back here: {exc}"
            ) from exc

    async def _unfinished(self, seconds: float | None) -> str:
        """What a timed-out wait says: the execution's status and where it is."""
        said = f"execution {self.id!r} did not finish within {seconds:g}s"

        async def read() -> ExecutionRow:  # once, briefly: the caller asked for no more time
            return await self._load(await self.app._store_ready())

        try:
            row = await asyncio.wait_for(read(), STATUS_PATIENCE)
        except (LegatoError, TimeoutError) as exc:
            return f"{said} (its status could not be read: {exc or 'no answer'})"
        where = f", current step {row.current_step!r}" if row.current_step else ""
        if row.status == Status.PENDING:
            where += ": no engine has picked it up yet"
        return f"{said}: it is {row.status.value}{where}"

    def _settled(self, row: ExecutionRow) -> bool:
        """Whether it stopped running (closed, or suspended) for good as far as this caller
        knows. An execution suspended because no engine knew its workflow version is not, if
        this app's engine knows that version and decides the execution: it resumes it."""
        if row.status.value in RUNNING:
            return False
        orch = self.app._engine.orchestrator if self.app._engine else None
        return not (
            row.suspend_kind == SuspendKind.UNREGISTERED
            and orch is not None
            and orch.owns(row.id)
            and self.app.registry.lookup_workflow(row.workflow, row.version) is not None
        )

    async def wait_settled(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for it to stop running on its own (closed, or
        suspended for an operator); whether it did."""
        try:
            await asyncio.wait_for(self._wait_settled(), timeout)
        except TimeoutError:
            return False
        return True

    async def _wait_settled(self) -> ExecutionRow | ExecutionUpdate:
        """Waits on the local orchestrator when it decides this execution (no reads);
        otherwise on the app's one shared poll of the database (another process decides it)."""
        orch = self.app._engine.orchestrator if self.app._engine else None
        waited = False  # after a wait, the row is read even if the execution looks live here:
        while True:  # another process may have closed it (terminate), unseen by this engine
            fut = orch.wait_closed(self.id) if orch is not None else None
            try:
                if fut is None or waited or not orch.is_live(self.id):  # type: ignore[union-attr]
                    row = await self.status_row()
                    if self._settled(row):
                        if orch is not None and row.status in CLOSED_STATUSES:
                            orch.closed_elsewhere(self.id, None)  # forget a stale instance
                        return row
                waited = True
                if fut is None:
                    return await self._watch()
                done, _ = await asyncio.wait([fut], timeout=1.0)
                if done:
                    return fut.result()
            finally:
                if fut is not None and not fut.done():
                    fut.cancel()

    async def _watch(self) -> ExecutionRow:
        watched = self.app._closed_watcher(await self.app._store_ready()).wait(self.id)
        try:
            return await watched
        finally:
            watched.cancel()

    async def history(self) -> list[Event]:
        async def load(store: Store) -> list[Event]:
            return await store.load_history(self.id)

        return await self.app._retrying(f"reading the history of {self.id!r}", load)

    async def signal(self, name: str, payload: Any = None) -> None:
        await self.app.signal(self.id, name, payload)

    async def cancel(self, reason: str | None = None) -> None:
        """``App.cancel``: the code sees ``legato.Cancelled`` at its next await."""
        await self.app.cancel(self.id, reason)

    async def terminate(self, reason: str | None = None) -> None:
        """``App.terminate``: ends it at once, TERMINATED."""
        await self.app.terminate(self.id, reason)
