"""A clock for tests that check *when* something happened: time here moves only when a test
moves it, never with the wall clock, so an instant can be asserted exactly however long the run
takes on a busy machine. (For a clock that also skips to the next timer, the test kit's
``WorkflowEnvironment(..., still_time=True)``.)"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable


class _Handle:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """Stands still until ``advance``; timers due by then fire on the next loop turn."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = int(time.time() * 1000) if start_ms is None else start_ms
        self._heap: list[tuple[int, int, _Handle, Callable[[], None]]] = []
        self._counter = itertools.count()

    def now_ms(self) -> int:
        return self._now

    def call_at(self, when_ms: int, callback: Callable[[], None]) -> _Handle:
        handle = _Handle()
        heapq.heappush(self._heap, (when_ms, next(self._counter), handle, callback))
        if when_ms <= self._now:
            asyncio.get_running_loop().call_soon(self._fire_due)
        return handle

    def advance(self, seconds: float) -> None:
        self._now += round(seconds * 1000)
        asyncio.get_running_loop().call_soon(self._fire_due)

    def pending(self) -> list[int]:
        """Due times of the timers not yet fired nor cancelled."""
        return sorted(when for when, _, handle, _ in self._heap if not handle.cancelled)

    def _fire_due(self) -> None:
        while self._heap and self._heap[0][0] <= self._now:
            _, _, handle, callback = heapq.heappop(self._heap)
            if not handle.cancelled:
                callback()
