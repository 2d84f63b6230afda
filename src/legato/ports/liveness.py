"""Port: proof that a lease owner is alive or dead, so that the work of a dead one is taken
over at once instead of when its leases expire (docs/ARCHITECTURE.md, "Proving an owner dead").

Every engine process holds a lock for its whole life that the operating system or the
database server lets go of the moment the process dies: a file lock next to a SQLite
database, a session advisory lock on PostgreSQL. Any other process can test that lock: held
means alive, free means dead. Where no lock can tell (an owner on another machine sharing a
SQLite file, an owner from before these locks), the answer is "unknown" and lease expiry
stays the rule.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OwnerInfo:
    """Who a process is, written beside its lock so that a refusal can name it."""

    owner: str
    orchestrates: bool
    host: str
    pid: int
    started_at: int  # epoch ms
    command: str


class Liveness(Protocol):
    async def hold(self, info: OwnerInfo) -> None:
        """Take this process's liveness lock, held until ``release`` or the process's death.
        Called before ``open`` (a refused process must not migrate the database). On SQLite
        an orchestrating owner also takes the database's engine lock: a second orchestrator
        on one file raises ``DatabaseLockedError`` naming the one that runs."""
        ...

    async def release(self, owner: str) -> None:
        """Let the locks go: from now on the owner tests as dead."""
        ...

    async def alive(self, owners: list[str]) -> dict[str, bool | None]:
        """For each owner: True if its lock is held (alive), False if the lock is free
        (dead: proven), None if nothing here can tell."""
        ...

    async def sweep(self, holding: Collection[str]) -> None:
        """Forget the locks of dead owners that hold no lease (``holding`` are the owners that
        do): nothing will ask about them again."""
        ...
