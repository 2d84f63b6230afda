"""The retry policy's delay math and its retry decision (legato.core.retry)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.retry import Retry

policies = st.builds(
    Retry,
    max_attempts=st.integers(1, 20),
    initial=st.floats(0, 1_000, allow_nan=False),
    backoff=st.floats(1.0, 10.0, allow_nan=False),
    max_interval=st.floats(0, 10_000, allow_nan=False),
)
attempts = st.integers(1, 60)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (Retry(), [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]),
        (Retry(initial=0.5, backoff=3.0, max_interval=10.0), [0.5, 1.5, 4.5, 10.0, 10.0]),
        (Retry(initial=2.0, backoff=1.0), [2.0, 2.0, 2.0]),
        (
            Retry(initial=timedelta(seconds=5), max_interval=timedelta(seconds=12)),
            [5.0, 10.0, 12.0],
        ),
        (Retry(initial=0.0), [0.0, 0.0]),
    ],
)
def test_delay_table(policy: Retry, expected: list[float]) -> None:
    assert [policy.delay(a) for a in range(1, len(expected) + 1)] == pytest.approx(expected)


@given(policies, attempts)
def test_delay_is_monotone_without_jitter(policy: Retry, attempt: int) -> None:
    assert policy.delay(attempt + 1) >= policy.delay(attempt)


@given(policies, attempts)
def test_delay_is_capped_at_max_interval(policy: Retry, attempt: int) -> None:
    assert 0.0 <= policy.delay(attempt) <= float(policy.max_interval)  # type: ignore[arg-type]


@pytest.mark.parametrize("attempt", [1_025, 1_100, 5_000])
def test_delay_of_a_late_attempt_is_the_cap(attempt: int) -> None:
    """A long-running retry policy (thousands of attempts) must keep answering max_interval."""
    assert Retry(max_attempts=10_000).delay(attempt) == 60.0


@given(policies, attempts, st.floats(0.0, 1.0, exclude_max=True))
def test_jitter_draw_stays_within_zero_and_delay(policy: Retry, attempt: int, draw: float) -> None:
    jittered = Retry(
        max_attempts=policy.max_attempts,
        initial=policy.initial,
        backoff=policy.backoff,
        max_interval=policy.max_interval,
        jitter=True,
    )
    full = policy.delay(attempt)
    got = jittered.delay(attempt, draw)
    assert 0.0 <= got <= full
    assert got == pytest.approx(full * draw)


@given(policies, attempts, st.floats(0.0, 1.0, exclude_max=True))
def test_draw_is_ignored_without_jitter(policy: Retry, attempt: int, draw: float) -> None:
    assert policy.delay(attempt, draw) == policy.delay(attempt)


@pytest.mark.parametrize(
    ("policy", "attempt", "error_types", "expected"),
    [
        (Retry(max_attempts=3), 1, ["RuntimeError", "Exception"], True),
        (Retry(max_attempts=3), 2, ["RuntimeError", "Exception"], True),
        (Retry(max_attempts=3), 3, ["RuntimeError", "Exception"], False),
        (Retry(max_attempts=1), 1, ["RuntimeError"], False),
        (Retry.none(), 1, ["RuntimeError"], False),
        (Retry(non_retryable=[ValueError]), 1, ["ValueError", "Exception"], False),
        (Retry(non_retryable=["ValueError"]), 1, ["ValueError", "Exception"], False),
        # the match is on any class of the MRO: a subclass of a listed class is not retried
        (Retry(non_retryable=[LookupError]), 1, ["KeyError", "LookupError", "Exception"], False),
        (Retry(non_retryable=[ValueError]), 1, ["KeyError", "LookupError", "Exception"], True),
        (Retry(non_retryable=["States.Timeout"]), 1, ["States.Timeout"], False),
    ],
)
def test_should_retry(policy: Retry, attempt: int, error_types: list[str], expected: bool) -> None:
    assert policy.should_retry(attempt, error_types) is expected


def test_non_retryable_names_mixes_classes_and_strings() -> None:
    assert Retry(non_retryable=[ValueError, "MyError"]).non_retryable_names == {
        "ValueError",
        "MyError",
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"initial": -1.0},
        {"max_interval": -0.5},
        {"backoff": 0.5},
    ],
)
def test_invalid_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Retry(**kwargs)  # type: ignore[arg-type]
