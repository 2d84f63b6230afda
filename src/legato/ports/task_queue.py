"""Port: the task queue that workers claim step attempts from and report outcomes to.

Tasks are inserted and consumed by transitions (``legato.ports.executions``); a worker claims
one with a lease (``lease_owner``, ``lease_expires_at``) that it renews while the step runs. A
lease that runs out makes the task claimable again: steps run at least once.
"""

from __future__ import annotations

from typing import Protocol

from legato.core.transition import Task


class TaskQueue(Protocol):
    async def claim_tasks(
        self, owner: str, queues: list[str], steps: list[str], now: int, lease_ms: int, limit: int
    ) -> list[Task]:
        """Lease up to ``limit`` ready tasks nobody holds (or whose lease ran out), of these
        steps on these queues: a worker takes only steps it has (``legato.ports.workers``)."""
        ...

    async def release_tasks(self, owner: str, task_ids: list[str] | None) -> int:
        """Give back the leases this owner holds on tasks without an outcome (of ``task_ids``,
        or all of them if None), so that any worker claims them at once, as their next
        attempt, instead of after the lease runs out; returns how many it gave back."""
        ...

    async def finish_task(self, task_id: str, attempt: int, owner: str, outcome: str) -> bool:
        """Record an attempt's outcome (JSON) on its task for the deciding orchestrator; False
        if the lease is no longer this owner's (the attempt was superseded)."""
        ...

    async def renew_leases(self, owner: str, task_ids: list[str], expires_at: int) -> list[str]:
        """Renew what this owner still holds; returns the ids whose step should stop: gone
        (its execution closed, or the lease passed to another owner) or asked to stop (its
        execution was cancelled)."""
        ...

    async def record_heartbeat(
        self, task_id: str, attempt: int, details: str | None, expires_at: int
    ) -> None: ...

    async def overdue_tasks(self, now: int, limit: int, partitions: list[int]) -> list[Task]:
        """Tasks of RUNNING executions no worker started by their schedule-to-start deadline
        (``Task.start_by``); claims skip them, so none starts once it is past."""
        ...

    async def next_start_deadline(self, partitions: list[int]) -> int | None:
        """The earliest ``start_by`` of the tasks no worker has started, if any."""
        ...

    async def done_tasks(self, limit: int, partitions: list[int]) -> list[Task]:
        """Tasks with an outcome waiting to be decided, of RUNNING executions."""
        ...
