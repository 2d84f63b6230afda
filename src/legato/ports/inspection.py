"""Port: the reads an operator makes (``legato executions ...``), which the engine never needs.

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
