"""Port: the workers that are alive and the steps they serve (rolling deploys).

During a deploy, old and new workers run side by side and may serve different steps. A worker
claims only tasks of the steps it has registered, so a step that no live worker serves waits
for one instead of failing; each worker records what it serves with a heartbeat, and
``waiting_steps`` names an execution's tasks that nobody can take, for operators to see.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol


class WaitingStep(NamedTuple):
    """An unclaimed task whose step no live worker serves on its queue."""

    task_id: str
    step: str
    queue: str


class Workers(Protocol):
    async def heartbeat_worker(
        self,
        owner: str,
        queues: list[str],
        steps: list[str],
        now: int,
        live_ms: int,
        leaving: bool,
    ) -> None:
        """Record that this worker is alive until ``now + live_ms`` and serves these steps on
        these queues (or, ``leaving``, that it serves nothing any more); forgets workers long
        gone."""
        ...

    async def waiting_steps(self, execution_id: str, now: int) -> list[WaitingStep]:
        """The execution's unclaimed tasks (no lease, or one that ran out) whose step no live
        worker serves on the task's queue: they wait for a worker that has the step."""
        ...
