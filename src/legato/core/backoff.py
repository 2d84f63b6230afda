"""Exponential backoff, the one schedule for step retries, reconnects and polls: a pure
function of the attempt number and, with jitter, a random draw passed in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """``initial`` seconds before the first retry, each next one ``factor`` times the last,
    never more than ``cap``. ``jitter``: "full jitter", a uniform draw between 0 and that."""

    initial: float
    factor: float = 2.0
    cap: float = 60.0
    jitter: bool = False

    def delay(self, attempt: int, draw: float = 1.0) -> float:
        """Seconds to wait after failure number ``attempt`` (1-based). ``draw`` is a uniform
        number in [0, 1), used only with jitter; passing it in keeps this pure."""
        try:
            capped = min(self.initial * self.factor ** (attempt - 1), self.cap)
        except OverflowError:  # a very late attempt: the growth long passed the cap
            capped = self.cap
        return capped * draw if self.jitter else capped


#: Reaching a lost database or broker again: quick at first, at most 5 s apart, spread out so
#: that many processes do not all reconnect at once.
RECONNECT = Backoff(initial=0.2, factor=2.0, cap=5.0, jitter=True)
