"""Liveness on PostgreSQL: a session advisory lock per owner, on a connection of its own.

The server lets a session's locks go when the session ends, and a session ends when its
process dies (the socket closes). So any replica, on any machine, can tell a dead owner from
a live one by trying its key (``owners_alive`` in ``queries.sql``). Several live replicas are
normal here: nothing is refused.

If the lock's connection drops while the process lives (the server restarted), it reconnects
and takes the lock again; until it does, others may judge it dead and take its leases early.
That is safe (its transitions then fail their guards and are dropped; a step may run once
more, as steps may) and short: the reconnect is tried every fraction of a second.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import psycopg

from legato.adapters.postgres.connection import translate
from legato.adapters.postgres.writer import Conn

log = logging.getLogger("legato.store")
RECONNECT_EVERY = 0.25  # seconds: quicker than the reconnect backoff, the gap is what counts
CONNECT_TIMEOUT = 10


def owner_key(owner: str) -> int:
    """The owner's advisory lock key: 64 bits of a hash of its id, as a signed bigint. A
    clash with a live key can only make a dead owner look alive (lease expiry then decides)."""
    return int.from_bytes(hashlib.blake2b(owner.encode(), digest_size=8).digest(), signed=True)


class OwnerLock:
    """One owner's lock: taken by ``hold``, kept (and taken again after a reconnect) by a
    background task, let go by ``release``."""

    def __init__(self, url: str, owner: str, queries: dict[str, str]) -> None:
        self.url = url
        self.owner = owner
        self.key = owner_key(owner)
        self._hold_sql = queries["hold_owner_lock"]
        self._release_sql = queries["release_owner_lock"]
        self._keeper: asyncio.Task[None] | None = None
        self._conn: Conn  # set by ``hold``, replaced on a reconnect

    async def hold(self) -> None:
        """Take the lock; a server that cannot be reached (one restarting, say) is tried
        again for CONNECT_TIMEOUT seconds, as the store's pool does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_TIMEOUT
        while True:
            try:
                self._conn = await self._lock(max(1, round(deadline - loop.time())))
                break
            except psycopg.OperationalError as exc:
                if loop.time() >= deadline:
                    raise translate(exc, self.url) from exc
                await asyncio.sleep(RECONNECT_EVERY)
            except psycopg.Error as exc:
                raise translate(exc, self.url) from exc
        self._keeper = loop.create_task(self._keep())

    async def _lock(self, connect_timeout: int = CONNECT_TIMEOUT) -> Conn:
        conn = await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=connect_timeout
        )
        try:
            await conn.execute(self._hold_sql, {"key": self.key})
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _keep(self) -> None:
        """Wait on the connection until it breaks; then take the lock again on a new one."""
        while True:
            try:
                async for _ in self._conn.notifies():  # never LISTENs: ends only on a failure
                    pass
                if not self._conn.closed:  # ended with the session alive: keep it, and wait on
                    await asyncio.sleep(RECONNECT_EVERY)
                    continue
            except (psycopg.Error, OSError) as exc:
                log.warning("the liveness lock's connection dropped (%s); taking it again", exc)
            await self._conn.close()
            while True:
                try:
                    self._conn = await self._lock()
                    break
                except (psycopg.Error, OSError):
                    await asyncio.sleep(RECONNECT_EVERY)

    async def release(self) -> None:
        """Unlock before closing: the server ends a closed session a moment later, and until
        then the owner would still test as alive."""
        if self._keeper is None:
            return
        self._keeper.cancel()
        await asyncio.wait([self._keeper], timeout=5.0)
        self._keeper = None
        conn = self._conn
        if not conn.closed:
            try:
                await asyncio.wait_for(conn.execute(self._release_sql), timeout=5.0)
            except (psycopg.Error, OSError, TimeoutError):
                pass  # the session's end lets go of it anyway
            await conn.close()
