"""Clocks: the wall clock, and a time-skipping one for tests (30 days of sleep in milliseconds)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

from legato.core.durations import to_ms


class SystemClock:
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def call_at(self, when_ms: int, callback: Callable[[], None]) -> asyncio.TimerHandle:
        loop = asyncio.get_running_loop()
        return loop.call_later(max(0.0, (when_ms - self.now_ms()) / 1000), callback)


class _SkipHandle:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class SkippingClock:
    """Runs at wall speed, and jumps to the next due timer whenever the engine is idle.

    ``idle`` is supplied by the engine: nothing running, nothing waiting to be committed.
    ``still``: time moves only by those jumps and by ``advance``, never with the wall clock, so
    a test can assert instants exactly however slowly it runs.
    """

    def __init__(self, start_ms: int | None = None, *, still: bool = False) -> None:
        wall = int(time.time() * 1000)
        self._still = still
        self._offset = 0 if start_ms is None else start_ms - wall  # the wall clock's, moved
        self._frozen_wall = wall  # what a still clock reads of the wall clock, always
        self._heap: list[tuple[int, int, _SkipHandle, Callable[[], None]]] = []
        self._counter = itertools.count()
        self.idle: Callable[[], bool] = lambda: True
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def now_ms(self) -> int:
        wall = self._frozen_wall if self._still else int(time.time() * 1000)
        return wall + self._offset

    def call_at(self, when_ms: int, callback: Callable[[], None]) -> _SkipHandle:
        handle = _SkipHandle()
        heapq.heappush(self._heap, (when_ms, next(self._counter), handle, callback))
        if self._task is None or self._task.done():
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._advance_loop())
        return handle

    def advance(self, seconds: float) -> None:
        """Move time forward by hand (from the loop or another thread, such as a sync step's);
        the timers now due fire on the loop's next turn."""
        self._offset += to_ms(seconds)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fire_due)

    async def _advance_loop(self) -> None:
        idle_turns = 0
        while self._heap:
            self._fire_due()
            await asyncio.sleep(0.001)
            if not self._heap:
                break
            idle_turns = idle_turns + 1 if self.idle() else 0
            if idle_turns >= 3:  # idle for several turns: nothing else can happen before a timer
                when = self._heap[0][0]
                gap = when - self.now_ms()
                if gap > 0:
                    self.advance(gap / 1000)
                idle_turns = 0

    def _fire_due(self) -> None:
        now = self.now_ms()
        while self._heap and self._heap[0][0] <= now:
            _, _, handle, callback = heapq.heappop(self._heap)
            if not handle.cancelled:
                callback()
