"""Port: orchestrator replicas and the partitions they lease (DESIGN.md §1).

Executions hash into ``legato.core.partitions.PARTITIONS`` partitions; each live replica holds
renewable leases on its fair share, so every execution has one decider at a time.
"""

from __future__ import annotations

from typing import Protocol


class Membership(Protocol):
    async def heartbeat_replica(self, owner: str, now: int, live_ms: int, leaving: bool) -> int:
        """Record that this replica is alive (or, ``leaving``, that it is gone); returns how
        many replicas are alive."""
        ...

    async def balance_partitions(
        self, owner: str, now: int, lease_ms: int, target: int
    ) -> list[int]:
        """Renew this replica's partition leases, give back any beyond ``target``, take free
        or expired ones up to it; returns the partitions it now holds."""
        ...

    async def release_partitions(self, owner: str, ids: list[int]) -> None: ...
