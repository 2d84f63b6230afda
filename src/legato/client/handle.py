"""Execution handles: what ``App.start`` and ``App.get_handle`` return."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from legato.core import codec
from legato.core.durations import instant, optional_seconds
from legato.core.events import CLOSED_STATUSES, Event, Status
from legato.core.transition import ExecutionUpdate
from legato.engine.registry import WorkflowDef
from legato.errors import ExecutionFailedError, ExecutionNotFound, WorkflowTimeoutError
from legato.ports.executions import ExecutionRow

if TYPE_CHECKING:
    from legato.client.app import App

R = TypeVar("R")


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
        )


class Handle(Generic[R]):
    def __init__(self, app: App, execution_id: str, workflow: WorkflowDef | None = None) -> None:
        self.app = app
        self.id = execution_id
        self._workflow = workflow

    def __repr__(self) -> str:
        return f"Handle({self.id!r})"

    async def status(self) -> ExecutionStatus:
        row = await (await self.app._store_ready()).load_execution(self.id)
        if row is None:
            raise ExecutionNotFound(self.id)
        return ExecutionStatus.from_row(row)

    async def result(self, timeout: float | timedelta | None = None) -> R:
        """The workflow's return value; raises ``ExecutionFailedError`` if it failed."""
        seconds = optional_seconds(timeout)
        try:
            closed = await asyncio.wait_for(self._wait_closed(), seconds)
        except TimeoutError:
            raise WorkflowTimeoutError(
                f"execution {self.id!r} did not finish within {seconds}s"
            ) from None
        if closed.status != Status.COMPLETED:
            raise ExecutionFailedError(
                self.id, closed.status.value, closed.error_type, closed.error_message
            )
        wf = self._workflow
        if wf is None:
            row = await self.status_row()
            wf = self.app.registry.lookup_workflow(row.workflow, row.version)
        if wf is None:
            return codec.loads(closed.output)  # type: ignore[no-any-return]
        return wf.signature.decode_result(closed.output or "null")  # type: ignore[no-any-return]

    async def status_row(self) -> ExecutionRow:
        row = await (await self.app._store_ready()).load_execution(self.id)
        if row is None:
            raise ExecutionNotFound(self.id)
        return row

    async def _wait_closed(self) -> ExecutionRow | ExecutionUpdate:
        """Waits on the local orchestrator when it decides this execution (no reads);
        otherwise on the app's one shared poll of the database (another process closes it)."""
        store = await self.app._store_ready()
        orch = self.app._engine.orchestrator if self.app._engine else None
        while True:
            fut = orch.wait_closed(self.id) if orch is not None else None
            if fut is None or not orch.is_live(self.id):  # type: ignore[union-attr]
                row = await store.load_execution(self.id)
                if row is None:
                    raise ExecutionNotFound(self.id)
                if row.status in CLOSED_STATUSES:
                    if fut is not None:
                        fut.cancel()
                    return row
            if fut is None:
                watched = self.app._closed_watcher(store).wait(self.id)
                try:
                    return await watched
                finally:
                    watched.cancel()
            done, _ = await asyncio.wait([fut], timeout=1.0)
            if done:
                return fut.result()
            fut.cancel()

    async def history(self) -> list[Event]:
        return await (await self.app._store_ready()).load_history(self.id)

    async def signal(self, name: str, payload: Any = None) -> None:
        await self.app.signal(self.id, name, payload)

    async def cancel(self, reason: str | None = None) -> None:
        """``App.cancel``: the code sees ``legato.Cancelled`` at its next await."""
        await self.app.cancel(self.id, reason)

    async def terminate(self, reason: str | None = None) -> None:
        """``App.terminate``: ends it at once, TERMINATED."""
        await self.app.terminate(self.id, reason)
