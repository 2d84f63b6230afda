"""A doorbell: any number of waiters woken at once when something may have changed (tasks
became claimable), without a sleep loop. A waiter takes the current ``ring`` before it looks
(a claim), and waits on it only if it found nothing: a ring between the look and the wait is
not lost, because the event it took is already set."""

from __future__ import annotations

import asyncio


class Doorbell:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def ring(self) -> asyncio.Event:
        """Set by the next ``rings`` (take it before looking, wait on it after)."""
        return self._event

    def rings(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()
