"""Waiting for executions that another process decides: one poll for all of them.

A client (an ``App`` without an engine, or one whose orchestrator does not own an execution)
learns that an execution closed, or was suspended, only by reading the database. Each handle
polling on its own costs a query per handle per interval; here every handle awaiting a result
in this process shares one query per interval, whatever their number. The interval starts
short (a result is often near) and doubles up to a tenth of a second; a new waiter resets it.

A database that cannot be reached for a while (a restart) pauses the poll, with the reconnect
backoff, for up to ``reconnect_seconds``; only then, or on any other error, do the waiters
hear of it.
"""

from __future__ import annotations

import asyncio

from legato.core.backoff import Backoff
from legato.engine.reconnect import Outage
from legato.ports.executions import ExecutionRow, Executions

PACE = Backoff(initial=0.005, factor=2.0, cap=0.1)
CHUNK = 500  # ids per query


class ClosedWatcher:
    def __init__(self, store: Executions, reconnect_seconds: float) -> None:
        self.store = store
        self.reconnect_seconds = reconnect_seconds
        self.loop = asyncio.get_running_loop()
        self._waiters: dict[str, list[asyncio.Future[ExecutionRow]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def wait(self, execution_id: str) -> asyncio.Future[ExecutionRow]:
        """Resolves with the execution's row once it has closed or is suspended."""
        fut: asyncio.Future[ExecutionRow] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(execution_id, []).append(fut)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())
        return fut

    async def _poll(self) -> None:
        quiet = 1  # polls since a new waiter came
        outage = Outage(self.reconnect_seconds)
        while True:
            for eid in [e for e, futs in self._waiters.items() if all(f.done() for f in futs)]:
                del self._waiters[eid]  # every waiter gave up (a timeout)
            if not self._waiters:
                return
            ids = list(self._waiters)
            try:
                for i in range(0, len(ids), CHUNK):
                    for row in await self.store.settled_executions(ids[i : i + CHUNK]):
                        for fut in self._waiters.pop(row.id, []):
                            if not fut.done():
                                fut.set_result(row)
                outage.ok()
            except Exception as exc:
                try:
                    pause = outage.failed(exc, "waiting for results")
                except Exception as final:  # for good: every waiter hears of it
                    self._fail_all(final)
                    return
                await asyncio.sleep(pause)
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), PACE.delay(quiet))
                quiet = 1
            except TimeoutError:
                quiet += 1

    def _fail_all(self, exc: Exception) -> None:
        for futs in self._waiters.values():
            for fut in futs:
                if not fut.done():
                    fut.set_exception(exc)
        self._waiters.clear()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._task = None
