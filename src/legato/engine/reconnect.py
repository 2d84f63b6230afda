"""Riding through a database that went away for a while (a restart, a failover, a network cut).

Only ``DatabaseUnavailableError`` is transient: the server could not be reached, not the call
rejected. It is retried with the one reconnect backoff (``core.backoff.RECONNECT``) until the
outage has lasted ``seconds``; then, and for any other error at once, the error is raised.
SQLite has no server to lose: a lock that outlasts its busy timeout (the driver's own wait)
is not retried again here.

An ``Outage`` counts one run of failures: a success in between starts the next one afresh, so a
long wait (a handle awaiting a result for days) rides through each restart with the full time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from legato.core.backoff import RECONNECT
from legato.errors import DatabaseUnavailableError

log = logging.getLogger("legato.reconnect")
T = TypeVar("T")


class Outage:
    """How long the database has been unreachable, and how much longer to try."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._since: float | None = None
        self._failures = 0

    def failed(self, exc: BaseException, what: str) -> float:
        """The pause before trying again after ``exc``; raises ``exc`` (with a note saying how
        long it was retried) if it is not transient or the outage has lasted too long."""
        if not isinstance(exc, DatabaseUnavailableError):
            raise exc
        now = asyncio.get_running_loop().time()
        if self._since is None:
            self._since = now
        self._failures += 1
        left = self._since + self.seconds - now
        if left <= 0:
            exc.add_note(f"{what}: gave up after retrying for {self.seconds:g}s")
            raise exc
        delay = min(RECONNECT.delay(self._failures, random.random()), left)
        log.warning("%s: %s; retrying in %.2fs", what, exc, delay)
        return delay

    def ok(self) -> None:
        """The database answered: the outage, if any, is over."""
        self._since = None
        self._failures = 0


async def reconnecting(op: Callable[[], Awaitable[T]], seconds: float, what: str) -> T:
    """``await op()``, tried again while the database is unreachable (up to ``seconds``).
    ``op`` must be safe to repeat: a write whose commit was cut may have happened (``App.start``
    recognises its own execution; see there)."""
    outage = Outage(seconds)
    while True:
        try:
            return await op()
        except DatabaseUnavailableError as exc:
            delay = outage.failed(exc, what)
        await asyncio.sleep(delay)
