"""The one interface between the orchestrator and a worker in the same process.

The orchestrator hands the worker the steps it leased to this process (``run``, ``hold``,
``release``); the worker reports each attempt's outcome through the ``OnOutcome`` callback the
engine wires to the orchestrator. Neither sees the other's internals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from legato.core.outcome import Outcome
from legato.core.transition import Task

OnOutcome = Callable[[Task, Outcome], None]


class LocalSteps(Protocol):
    @property
    def queues(self) -> frozenset[str]:
        """The queues this worker serves: steps on them are leased to it at scheduling."""
        ...

    @property
    def steps(self) -> frozenset[str]:
        """The steps this worker has: only those are leased to it (a rolling deploy may leave
        this process without a step its workflows call)."""
        ...

    def run(self, task: Task) -> None:
        """Run an attempt leased to this process, now (nothing if it is stopping: its lease
        is given back when it stops)."""
        ...

    def hold(self, task: Task) -> None:
        """Keep renewing the lease of an attempt that runs later (a retry waiting for its
        time), until ``run`` or ``release``."""
        ...

    def release(self, task_id: str) -> None:
        """Stop renewing a lease: the outcome is committed, or lost and must expire."""
        ...

    def cancel(self, task_ids: Iterable[str]) -> None:
        """Their execution asks them to stop (a cancellation): tell them if they run."""
        ...
