"""Taking over the work of owners proven dead, at once rather than when their leases expire.

A restarted ``legato dev`` finds its killed predecessor's partitions and task leases still
unexpired (the lease is 30 s by default). Waiting them out is what the leases are for when
nothing better is known; but each owner holds a liveness lock for its whole life
(``legato.ports.liveness``), and a lock that is free proves its owner dead. So at start-up,
and at every partition balance after, an engine asks about every other holder of a lease:
the dead ones' partitions are freed for the balance that follows and their task leases
ended, so the steps they were running are claimed again now. Owners nothing here can judge
(another machine, an older Legato, a remote worker that reaches the database only through the
API: ``legato.core.owners.provable``) keep their leases until they expire, and the engine says
so once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from dataclasses import dataclass, field
from typing import Protocol

from legato.core.owners import host_of, pid_of, provable, role_of
from legato.ports.liveness import Liveness
from legato.ports.membership import LeaseHolder, Membership, Takeover

log = logging.getLogger("legato.engine")
LAG_S = 2.0  # how long a lock may outlive its process here (the server ending the session)
LAG_STEP_S = 0.05


class RecoveryStore(Membership, Liveness, Protocol):
    pass


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


@dataclass
class Recovery:
    """One engine's side of it: who it is, whether it takes partitions (an orchestrator) or
    only task leases (a worker alone), and the owners it already reported as unknown."""

    store: RecoveryStore
    owner: str
    partitions: bool
    reported: set[str] = field(default_factory=set)

    async def run(self, now: int, live_ms: int, *, starting: bool = False) -> list[Takeover]:
        """Ask about every other lease holder; take over the dead ones. Returns what was
        taken (task leases ended: the caller wakes its worker). ``starting``: also give a
        predecessor killed a moment ago time to show as dead, and forget the locks of dead
        owners that hold nothing."""
        holders = await self.store.lease_holders(self.owner, now, live_ms)
        if not self.partitions:
            holders = [h for h in holders if h.tasks]
        alive = await self.store.alive([h.owner for h in holders]) if holders else {}
        if starting:
            alive |= await self._look_again(alive)
        dead = [h.owner for h in holders if alive.get(h.owner) is False]
        taken = await self.store.take_over(dead, self.partitions) if dead else []
        for t in taken:  # at start-up, most likely this process's own predecessor
            log.warning(
                "%s%s %s is gone (lock free): taking over %s and %s",
                "previous " if starting else "", role_of(t.owner), t.owner,
                _count(t.partitions, "partition"), _count(t.tasks, "task lease"),
            )  # fmt: skip
        for h in holders:
            if alive.get(h.owner) is None:
                self._report_unknown(h, now)
        if dead or starting:
            await self.store.sweep([h.owner for h in holders if h.owner not in dead])
        return taken

    async def _look_again(self, alive: dict[str, bool | None]) -> dict[str, bool | None]:
        """Owners of this host whose process is gone but whose lock still looks held: the
        database server has not yet ended their session. Asked again for a moment; the lock,
        not the missing process, is the proof (a process id means little across containers
        that share a host name)."""
        lagging = [o for o, a in alive.items() if a and process_gone(o)]
        found: dict[str, bool | None] = {}
        waited = 0.0
        while lagging and waited < LAG_S:
            await asyncio.sleep(LAG_STEP_S)
            waited += LAG_STEP_S
            found |= await self.store.alive(lagging)
            lagging = [o for o in lagging if found[o]]
        return found

    def _report_unknown(self, holder: LeaseHolder, now: int) -> None:
        if holder.owner in self.reported or not (holder.partitions or holder.tasks):
            return
        self.reported.add(holder.owner)
        wait = max(holder.expires_at - now, 0) / 1000
        if not provable(holder.owner):  # a remote worker: leases that run out are its rule
            log.info(
                "remote worker %s holds %s; if it is gone they are taken when they expire, "
                "within %.0f s", holder.owner, _count(holder.tasks, "task lease"), wait,
            )  # fmt: skip
            return
        log.warning(
            "%s holds %s and %s, and cannot be proven gone from here (another machine, or "
            "an older Legato): they are taken when they expire, within %.0f s",
            holder.owner, _count(holder.partitions, "partition"),
            _count(holder.tasks, "task lease"), wait,
        )  # fmt: skip


def process_gone(owner: str) -> bool:
    """The owner names this host and a process id that no process here has now."""
    pid = pid_of(owner)
    if sys.platform == "win32" or pid is None or host_of(owner) != socket.gethostname():
        return False  # (on Windows, signal 0 is not a probe)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, someone else's
        return False
    return False
