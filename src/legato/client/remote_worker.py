"""A remote worker: an app's steps run by a ``legato.engine.worker.Worker`` whose store is the
HTTP API of a Legato server (``legato.adapters.http.worker_store``), not a database.

It is the worker of ``legato worker`` without the rest of an engine: no orchestrator, and no
liveness lock or recovery (it cannot reach the database to hold one, or to judge others). Its
owner id has the role ``remote``, which nothing judges dead: its leases run out if it dies. The
lease semantics are otherwise a local worker's: renewed every lease / 3, an outcome recorded
only under the lease that ran it, and a graceful stop (``stop``) that drains, waits the grace
period and gives every lease still held back. A server that restarts is retried by the
transport for ``reconnect_seconds`` on every call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from legato.adapters.http.transport import Transport
from legato.adapters.http.worker_store import RemoteTaskQueue
from legato.client.app import App
from legato.core.durations import to_ms
from legato.core.owners import REMOTE_ROLE
from legato.engine.engine import STOP_TIMEOUT, make_owner_id
from legato.engine.worker import Worker

log = logging.getLogger("legato.worker")


class RemoteWorker:
    """``await start()``, then ``await stop()`` (graceful) once told to."""

    def __init__(
        self,
        app: App,
        server: str,
        *,
        api_key: str | None = None,
        queues: list[str] | None = None,
    ) -> None:
        self.app = app
        self.transport = Transport(server, api_key=api_key, reconnect_seconds=app.reconnect_seconds)
        registry = app.registry
        self.worker = Worker(
            RemoteTaskQueue(self.transport, app.clock),
            registry,
            app.clock,
            owner=make_owner_id(REMOTE_ROLE),
            concurrency=app.concurrency,
            lease_ms=to_ms(app.lease_seconds),
            queues=sorted(queues or registry.queues() or {"default"}),
            poll_interval=0.0,  # the claim itself waits on the server (a long poll)
        )
        self.threads_left = 0
        self._loops: list[asyncio.Task[None]] = []

    @property
    def owner(self) -> str:
        return self.worker.owner

    async def start(self) -> None:
        worker = self.worker
        try:
            await worker.announce()  # also: the server answers, and takes this key
        except BaseException:
            await self.transport.close()
            raise
        log.info(
            "remote worker %s on %s: serving steps %s on queues %s",
            worker.owner,
            self.transport.base_url,
            ", ".join(sorted(worker.steps)) or "none",
            ", ".join(sorted(worker.queues)),
            extra={"event": "worker.started", "owner": worker.owner},
        )
        self._spawn(worker.poll_loop())
        self._spawn(worker.renew_loop())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._loops.append(asyncio.get_running_loop().create_task(coro))

    async def stop(self) -> None:
        """Graceful: claim nothing more, give running steps the app's grace period and record
        their outcomes, then give back every lease still held (docs/ARCHITECTURE.md,
        "Stopping")."""
        worker = self.worker
        # a server that does not answer now is not waited for long: leases run out anyway
        self.transport.reconnect_seconds = min(self.transport.reconnect_seconds, STOP_TIMEOUT)
        await worker.drain(self.app.grace_seconds)
        worker.stop_loops()
        if self._loops:  # a claim waiting on the server ends at once
            _, pending = await asyncio.wait(self._loops, timeout=0.1)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=STOP_TIMEOUT)
        self._loops.clear()
        await worker.leave()
        self.threads_left = worker.attempts.threads_running()
        await self.transport.close()
        await self.app.aws_clients.close()  # the integrations' SDK clients its steps opened
        log.info("stopped", extra={"event": "worker.stopped", "owner": worker.owner})
