"""The Clock port: where the engine gets time from, so tests can skip it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now_ms(self) -> int:
        """Epoch milliseconds."""
        ...

    def call_at(self, when_ms: int, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` on the running loop once ``now_ms() >= when_ms``."""
        ...
