"""The task queue of a remote worker (``legato worker --server URL``): the ``TaskQueue`` and
``Workers`` ports a ``legato.engine.worker.Worker`` needs, over the HTTP API
(``legato.api.workers``) instead of a database connection.

Lease semantics are the server's store's: claims, renewals and heartbeats say how long a lease
should run (``lease_ms``) rather than until when, so the two machines' clocks need not agree.
A claim is a long poll: the server answers as soon as tasks are claimable, or empty after
``wait_seconds``. Outcomes are queued and sent in the background, those of the same moment in
one request (one in flight at a time; those reported meanwhile wait for it and go together),
so a busy worker pays far less than a round trip per step and its slot is free at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

from legato.adapters.http.transport import Transport
from legato.core.transition import Task
from legato.ports.clock import Clock
from legato.ports.workers import WaitingStep

log = logging.getLogger("legato.worker")
#: how long one claim waits on the server for tasks before it answers empty
CLAIM_WAIT_SECONDS = 10.0
FLUSH_TIMEOUT = 10.0  # seconds giving leases back waits for the outcomes sent before


class RemoteTaskQueue:
    """A ``WorkerStore`` over the HTTP API of a Legato server."""

    def __init__(
        self, transport: Transport, clock: Clock, *, wait_seconds: float = CLAIM_WAIT_SECONDS
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.wait_seconds = wait_seconds
        self._pending: list[dict[str, Any]] = []
        self._sending: asyncio.Task[None] | None = None

    def _path(self, owner: str, what: str) -> str:
        return f"/v1/workers/{quote(owner, safe=':')}/{what}"

    def _lease_ms(self, expires_at: int) -> int:
        return max(expires_at - self.clock.now_ms(), 1)

    # --- TaskQueue ----------------------------------------------------------------------------
    async def claim_tasks(
        self, owner: str, queues: list[str], steps: list[str], now: int, lease_ms: int, limit: int
    ) -> list[Task]:
        body = {
            "queues": queues,
            "steps": steps,
            "lease_ms": lease_ms,
            "limit": limit,
            "wait_seconds": self.wait_seconds,
        }
        answer = await self.transport.call(
            "POST", self._path(owner, "claim"), json=body, timeout=self.wait_seconds + 30
        )
        return [_task(t) for t in answer["tasks"]]

    async def finish_task(self, task_id: str, attempt: int, owner: str, outcome: str) -> bool:
        """Queues the outcome and returns at once (True): the worker's slot is free for the
        next claim while outcomes travel. It holds no lease renewal meanwhile, which the
        send outlasts only if the server is unreachable for longer than the lease (the step
        then runs again, as it would have anyway); ``release_tasks`` and ``flush`` wait for
        the outcomes queued before them, so a stop never gives back a finished step."""
        self._pending.append(
            {"owner": owner, "task_id": task_id, "attempt": attempt, "outcome": outcome}
        )
        if self._sending is None:
            self._sending = asyncio.get_running_loop().create_task(self._send_outcomes())
        return True

    async def flush(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Wait until every outcome queued so far has been sent (or failed to be), for
        ``timeout`` seconds at most (a server that does not answer: their leases run out)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._sending is not None and loop.time() < deadline:
            await asyncio.wait({self._sending}, timeout=deadline - loop.time())

    async def _send_outcomes(self) -> None:
        """Send what is pending, one request per owner, until nothing is."""
        try:
            while self._pending:
                await asyncio.sleep(0)  # the outcomes of this loop turn go together
                batch, self._pending = self._pending, []
                by_owner: dict[str, list[dict[str, Any]]] = {}
                for item in batch:
                    by_owner.setdefault(item.pop("owner"), []).append(item)
                for owner, items in by_owner.items():
                    await self._send(owner, items)
        finally:
            self._sending = None

    async def _send(self, owner: str, items: list[dict[str, Any]]) -> None:
        try:
            answer = await self.transport.call(
                "POST", self._path(owner, "finish"), json={"outcomes": items}
            )
        except Exception as exc:
            log.warning(
                "could not record %d step %s (%s); %s run again once %s leases run out",
                len(items),
                "outcome" if len(items) == 1 else "outcomes",
                exc,
                "it will" if len(items) == 1 else "they will",
                "its" if len(items) == 1 else "their",
            )
            return
        superseded = sum(1 for r in answer["recorded"] if not r)
        if superseded:
            log.info("%d outcomes came after their lease had passed on: not recorded", superseded)

    async def release_tasks(self, owner: str, task_ids: list[str] | None) -> int:
        await self.flush()  # a finished step's outcome first: it is never given back
        answer = await self.transport.call(
            "POST", self._path(owner, "release"), json={"task_ids": task_ids}
        )
        return int(answer["released"])

    async def renew_leases(self, owner: str, task_ids: list[str], expires_at: int) -> list[str]:
        body = {"task_ids": task_ids, "lease_ms": self._lease_ms(expires_at)}
        answer = await self.transport.call("POST", self._path(owner, "renew"), json=body)
        return [str(t) for t in answer["stop"]]

    async def record_heartbeat(
        self, task_id: str, attempt: int, details: str | None, expires_at: int
    ) -> None:
        body = {
            "task_id": task_id,
            "attempt": attempt,
            "details": details,
            "lease_ms": self._lease_ms(expires_at),
        }
        await self.transport.call("POST", "/v1/worker-tasks/heartbeat", json=body)

    async def overdue_tasks(self, now: int, limit: int, partitions: list[int]) -> list[Task]:
        raise NotImplementedError("an orchestrator's read: not served to remote workers")

    async def next_start_deadline(self, partitions: list[int]) -> int | None:
        raise NotImplementedError("an orchestrator's read: not served to remote workers")

    async def done_tasks(self, limit: int, partitions: list[int]) -> list[Task]:
        raise NotImplementedError("an orchestrator's read: not served to remote workers")

    # --- Workers ------------------------------------------------------------------------------
    async def heartbeat_worker(
        self,
        owner: str,
        queues: list[str],
        steps: list[str],
        now: int,
        live_ms: int,
        leaving: bool,
    ) -> None:
        body = {"queues": queues, "steps": steps, "live_ms": live_ms, "leaving": leaving}
        await self.transport.call("POST", self._path(owner, "heartbeat"), json=body)

    async def waiting_steps(self, execution_id: str, now: int) -> list[WaitingStep]:
        raise NotImplementedError("an operator's read: not served to remote workers")


def _task(t: dict[str, Any]) -> Task:
    return Task(
        id=t["id"],
        execution_id=t["execution_id"],
        step_id=t["step_id"],
        name=t["name"],
        queue=t["queue"],
        args=t["args"],
        available_at=t["available_at"],
        attempt=t["attempt"],
        lease_owner=t["lease_owner"],
        lease_expires_at=t["lease_expires_at"],
        heartbeat_details=t.get("heartbeat_details"),
        traceparent=t.get("traceparent"),
    )
