"""Retry policy and its delay math: a pure function of the attempt number and a random draw."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from legato.core.backoff import Backoff
from legato.core.durations import seconds


@dataclass(frozen=True)
class Retry:
    """How a failed step is retried.

    The default, ``Retry()``: 3 attempts in all, the first retry after 1 s, each next one after
    twice the last, never more than 60 s apart, no jitter. ``jitter=True`` is "full jitter" (a
    uniform draw between 0 and the computed delay), the AWS ``JitterStrategy: FULL``.
    ``non_retryable`` lists exception classes or class names that fail the step at once; the
    match is on any class in the exception's MRO. ``Retry.none()`` runs a step exactly once.
    """

    max_attempts: int = 3
    initial: float | timedelta = 1.0
    backoff: float = 2.0
    max_interval: float | timedelta = 60.0
    jitter: bool = False
    non_retryable: Sequence[type[BaseException] | str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("Retry.max_attempts must be at least 1")
        if seconds(self.initial) < 0 or seconds(self.max_interval) < 0:
            raise ValueError("Retry intervals must not be negative")
        if self.backoff < 1.0:
            raise ValueError("Retry.backoff must be at least 1.0")

    @classmethod
    def none(cls) -> Retry:
        return cls(max_attempts=1)

    @property
    def non_retryable_names(self) -> frozenset[str]:
        return frozenset(n if isinstance(n, str) else n.__name__ for n in self.non_retryable)

    def delay(self, attempt: int, draw: float = 1.0) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        ``draw`` is a uniform random number in [0, 1) used only with jitter; passing it in keeps
        this function pure, and the orchestrator records the result so replays never redraw.
        """
        initial, cap = seconds(self.initial), seconds(self.max_interval)
        return Backoff(initial, self.backoff, cap, self.jitter).delay(attempt, draw)

    def should_retry(self, attempt: int, error_types: Iterable[str]) -> bool:
        if attempt >= self.max_attempts:
            return False
        return self.non_retryable_names.isdisjoint(error_types)
