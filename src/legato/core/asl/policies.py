"""Retriers and Catchers (ASL spec, "Error Handling": "Retrying after error", "Fallback states").

Which retrier or catcher applies to an error, and how long a retrier waits: pure functions of
the definition, the error name, the attempt count and a random draw.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import cast

from legato.core import error_names
from legato.core.events import JSON

DEFAULT_INTERVAL_SECONDS = 1  # ASL spec: IntervalSeconds defaults to 1
DEFAULT_MAX_ATTEMPTS = 3  # ... MaxAttempts to 3
DEFAULT_BACKOFF_RATE = 2.0  # ... BackoffRate to 2.0


def error_matches(error_equals: Sequence[JSON], error: str) -> bool:
    """ASL spec, "Error names": ``States.ALL`` matches any error except the terminal
    ``States.Runtime``; the developer guide ("Error names") adds that ``States.TaskFailed``
    matches any error except ``States.Timeout``, and that ``States.Runtime`` errors "aren't
    retriable and will always cause the execution to fail": no retrier or catcher matches
    them, not even one that names ``States.Runtime``. A ``States.DataLimitExceeded`` that no
    policy may see never gets here (``legato.core.asl.limits``)."""
    if error == error_names.RUNTIME:
        return False
    for name in error_equals:
        if name == error:
            return True
        if name == error_names.ALL and error not in error_names.NOT_MATCHED_BY_ALL:
            return True
        if (
            name == error_names.TASK_FAILED
            and error != error_names.TIMEOUT
            and error not in error_names.NOT_MATCHED_BY_ALL
        ):
            return True
    return False


def first_match(rules: Sequence[JSON], error: str) -> int | None:
    """Index of the first retrier (or catcher) whose ErrorEquals matches: the spec scans them
    in order and uses the first that matches."""
    for i, rule in enumerate(rules):
        if isinstance(rule, dict):
            equals = rule.get("ErrorEquals")
            if isinstance(equals, list) and error_matches(equals, error):
                return i
    return None


def max_attempts(retrier: Mapping[str, JSON]) -> int:
    value = retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS)
    return value if isinstance(value, int) else DEFAULT_MAX_ATTEMPTS


def retry_delay(retrier: Mapping[str, JSON], retries_done: int, rng: random.Random) -> float:
    """Seconds before the next attempt: IntervalSeconds × BackoffRate^retries_done, capped by
    MaxDelaySeconds; ``JitterStrategy: FULL`` draws uniformly between 0 and that (developer
    guide, "Retrying after an error")."""
    interval = cast(float, retrier.get("IntervalSeconds", DEFAULT_INTERVAL_SECONDS))
    rate = cast(float, retrier.get("BackoffRate", DEFAULT_BACKOFF_RATE))
    delay = float(interval) * float(rate) ** retries_done
    cap = retrier.get("MaxDelaySeconds")
    if isinstance(cap, int | float):
        delay = min(delay, float(cap))
    if retrier.get("JitterStrategy") == "FULL":
        delay = rng.uniform(0.0, delay)
    return delay
