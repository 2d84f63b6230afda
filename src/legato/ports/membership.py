"""Port: orchestrator replicas and the partitions they lease (DESIGN.md §1).

Executions hash into ``legato.core.partitions.PARTITIONS`` partitions; each live replica holds
renewable leases on its fair share, so every execution has one decider at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Another owner holding unexpired leases, or a replica with a fresh heartbeat."""

    owner: str
    partitions: int
    tasks: int  # task attempts leased, not yet finished
    expires_at: int  # the latest of its leases' expiry (epoch ms); 0 for a heartbeat alone


@dataclass(frozen=True, slots=True)
class Takeover:
    """What was taken from an owner proven dead: partitions now free, task leases ended."""

    owner: str
    partitions: int
    tasks: int


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

    async def lease_holders(self, owner: str, now: int, live_ms: int) -> list[LeaseHolder]:
        """Every owner but ``owner`` that holds a partition or task lease unexpired at
        ``now``, or heartbeats as a replica within ``live_ms``."""
        ...

    async def take_over(self, dead: list[str], partitions: bool) -> list[Takeover]:
        """For owners proven dead (``legato.ports.liveness``): end their task leases (the
        tasks are claimable at once, as their next attempt), forget them as replicas, and,
        with ``partitions``, free their partitions for the next balance to take."""
        ...
