"""Port: the reads an operator makes (``legato executions ...``, ``/v1/queues``, ``/v1/cluster``,
the gauges of ``/metrics``), which the engine never needs.

Kept apart from ``Executions`` so the engine's port stays what the hot path uses, and each
adapter's answers to "how many are there", "which id did I mean" and "what is retrying" are
tested on their own (``tests/contract/test_inspection.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from legato.core.events import Status
from legato.ports.executions import ExecutionRow


@dataclass(frozen=True, slots=True)
class RetryingStep:
    """A step whose last attempt failed and that waits for its next one: its task row is back
    in the queue (``TaskRetry``), and the last ``StepRetryScheduled`` of its history says why."""

    execution_id: str
    workflow: str
    step_id: int
    step: str
    attempt: int  # the attempt that failed last; the next one is attempt + 1
    error_type: str
    message: str
    failed_at: int  # epoch ms the failure was recorded
    next_attempt_at: int  # epoch ms the next attempt may start (in the past: overdue)


@dataclass(frozen=True, slots=True)
class QueueStats:
    """One queue's outstanding tasks at ``now``: ``ready`` may start now and nobody holds them
    (the depth), ``oldest_ready_at`` is the earliest ``available_at`` among them (epoch ms, None
    when none is ready), ``running`` are held under a live lease, ``scheduled`` wait for a later
    time (a retry's backoff, a delayed start)."""

    queue: str
    ready: int
    oldest_ready_at: int | None
    running: int
    scheduled: int


@dataclass(frozen=True, slots=True)
class ReplicaSeen:
    """An orchestrator replica with a recent heartbeat, and the partitions it leases now."""

    owner: str
    heartbeat_at: int  # epoch ms
    partitions: int


@dataclass(frozen=True, slots=True)
class WorkerSeen:
    """A worker (an engine's, or a remote one over the API) whose heartbeat has not run out."""

    owner: str
    queues: list[str]
    steps: list[str]
    heartbeat_at: int  # epoch ms: when it was last seen
    expires_at: int  # epoch ms: considered gone after this without another heartbeat


class Inspection(Protocol):
    async def count_executions(
        self, status: Status | None = None, workflow: str | None = None
    ) -> int:
        """How many executions ``list_executions`` would list without a limit."""
        ...

    async def executions_by_prefix(self, prefix: str, limit: int) -> list[ExecutionRow]:
        """Executions whose id starts with ``prefix`` (taken literally), by id, at most
        ``limit``: an operator types the first characters of an id."""
        ...

    async def retrying_steps(
        self, now: int, limit: int, execution_id: str | None = None
    ) -> list[RetryingStep]:
        """Steps of RUNNING executions waiting for their next attempt after a failed one: the
        task is not running now (its next attempt is due after ``now``, or nobody holds it,
        or its holder's lease ran out). Soonest next attempt first; one execution's only if
        ``execution_id`` is given."""
        ...

    async def queue_stats(self, now: int) -> list[QueueStats]:
        """Every queue that has outstanding tasks, by name. One aggregate over the tasks
        table (which holds only outstanding work), read at scrape time: nothing on the hot
        path keeps counters for it."""
        ...

    async def live_replicas(self, now: int, live_ms: int) -> list[ReplicaSeen]:
        """Replicas whose heartbeat is at most ``live_ms`` old, or that lease a partition
        still, by owner."""
        ...

    async def live_workers(self, now: int) -> list[WorkerSeen]:
        """Workers whose heartbeat's ``expires_at`` is not past, by owner."""
        ...
