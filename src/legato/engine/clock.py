"""Clocks: the wall clock, and a time-skipping one for tests (30 days of sleep in milliseconds)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

from legato.core.durations import to_ms

#: Seconds of real idle time before a time-skipping clock jumps to a task token's deadline.
DEFAULT_CALLBACK_GRACE = 1.0


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

    A timer armed with ``call_at_deadline`` is the deadline of something that comes from
    outside the engine (a task token's callback: its timeout or heartbeat timeout), which a
    test may still send at any moment, so an idle engine does not mean nothing else can
    happen before it. Time jumps to such a timer only once the engine is idle and has made no
    progress (``progress``, supplied by the engine: a count of what it decided) for
    ``callback_grace`` seconds of real time (None: never by itself), or on ``skip``. Progress
    rather than idleness, because an idle engine still wakes now and then to poll.
    """

    def __init__(
        self,
        start_ms: int | None = None,
        *,
        still: bool = False,
        callback_grace: float | None = DEFAULT_CALLBACK_GRACE,
    ) -> None:
        wall = int(time.time() * 1000)
        self._still = still
        self._offset = 0 if start_ms is None else start_ms - wall  # the wall clock's, moved
        self._frozen_wall = wall  # what a still clock reads of the wall clock, always
        self._heap: list[tuple[int, int, _SkipHandle, Callable[[], None], bool]] = []
        self._counter = itertools.count()
        self.idle: Callable[[], bool] = lambda: True
        self.progress: Callable[[], int] = lambda: 0
        self.callback_grace = callback_grace
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def now_ms(self) -> int:
        wall = self._frozen_wall if self._still else int(time.time() * 1000)
        return wall + self._offset

    def call_at(self, when_ms: int, callback: Callable[[], None]) -> _SkipHandle:
        return self._push(when_ms, callback, outside=False)

    def call_at_deadline(self, when_ms: int, callback: Callable[[], None]) -> _SkipHandle:
        """``call_at`` for the deadline of an answer from outside the engine (class doc)."""
        return self._push(when_ms, callback, outside=True)

    def _push(self, when_ms: int, callback: Callable[[], None], *, outside: bool) -> _SkipHandle:
        handle = _SkipHandle()
        heapq.heappush(self._heap, (when_ms, next(self._counter), handle, callback, outside))
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

    def skip(self) -> bool:
        """Jump now to the next timer, a callback's deadline included; False if none is set."""
        self._drop_cancelled()
        if not self._heap:
            return False
        gap = self._heap[0][0] - self.now_ms()
        self.advance(max(gap, 0) / 1000)
        return True

    async def _advance_loop(self) -> None:
        idle_turns = 0
        seen = self.progress()
        quiet_since = time.monotonic()  # when the engine last made progress (real seconds)
        while self._heap:
            self._fire_due()
            await asyncio.sleep(0.001)
            self._drop_cancelled()
            if not self._heap:
                break
            progress = self.progress()
            if progress != seen:
                seen, quiet_since = progress, time.monotonic()
            idle_turns = idle_turns + 1 if self.idle() else 0
            if idle_turns < 3:  # idle for several turns: nothing else can happen before a timer
                continue
            when, _, _, _, outside = self._heap[0]
            if outside and not self._grace_over(quiet_since):
                continue  # its answer may still come from outside
            gap = when - self.now_ms()
            if gap > 0:
                self.advance(gap / 1000)
            idle_turns = 0

    def _grace_over(self, quiet_since: float) -> bool:
        grace = self.callback_grace
        return grace is not None and time.monotonic() - quiet_since >= grace

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)

    def _fire_due(self) -> None:
        now = self.now_ms()
        while self._heap and self._heap[0][0] <= now:
            _, _, handle, callback, _ = heapq.heappop(self._heap)
            if not handle.cancelled:
                callback()
