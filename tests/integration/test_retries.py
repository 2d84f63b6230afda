"""Retries, non-retryable errors and exhausted retries, on the time-skipping clock (which
stands still between skips where a test checks the instant a retry runs at)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import legato
from legato.core import events as ev
from legato.testing import WorkflowEnvironment
from tests.conftest import of_type

T0 = datetime(2030, 1, 1, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


@pytest.mark.parametrize(
    ("policy", "failures", "delays_ms"),
    [
        # initial 10 s, x3 each time, capped at 60 s
        (
            legato.Retry(max_attempts=5, initial=10, backoff=3, max_interval=60),
            4,
            [10_000, 30_000, 60_000, 60_000],
        ),
        (
            legato.Retry(
                max_attempts=4,
                initial=timedelta(minutes=1),
                backoff=2,
                max_interval=timedelta(minutes=3),
            ),
            3,
            [60_000, 120_000, 180_000],
        ),
        (legato.Retry(max_attempts=3, initial=5, backoff=1), 2, [5_000, 5_000]),
        # the cap applies from the first retry on
        (legato.Retry(max_attempts=3, initial=100, backoff=2, max_interval=7), 2, [7_000, 7_000]),
        (
            legato.Retry(max_attempts=6, initial=1, backoff=2),
            5,
            [1_000, 2_000, 4_000, 8_000, 16_000],
        ),
    ],
)
async def test_retry_schedule_on_virtual_time(
    any_db_url: str, policy: legato.Retry, failures: int, delays_ms: list[int]
) -> None:
    app = legato.App()
    attempts: list[int] = []
    started_at: list[int] = []

    @app.step(name="flaky", retry=policy)
    async def flaky() -> str:
        ctx = legato.step_context()
        attempts.append(ctx.attempt)
        started_at.append(env.clock.now_ms())
        if ctx.attempt <= failures:
            raise ConnectionError(f"attempt {ctx.attempt} failed")
        return f"ok on {ctx.attempt}"

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> str:
        return await ctx.step(flaky)  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url, start=T0, still_time=True) as env:
        handle = await app.start(wf)
        assert await handle.result() == f"ok on {failures + 1}"
        history = await handle.history()

    assert attempts == list(range(1, failures + 2))
    retries = of_type(history, ev.StepRetryScheduled)
    assert [e.delay_ms for e in retries] == delays_ms
    assert [e.attempt for e in retries] == list(range(1, failures + 1))
    assert [e.error_type for e in retries] == ["ConnectionError"] * failures
    assert [e.message for e in retries] == [f"attempt {i} failed" for i in range(1, failures + 1)]
    # the first attempt runs at the start; each retry runs when its delay is up, not before,
    # and the clock skips straight there (well under the shortest delay late)
    assert started_at[0] - T0_MS < 1_000
    for i, retry in enumerate(retries):
        due = retry.ts + retry.delay_ms
        assert 0 <= started_at[i + 1] - due < 500, (i, started_at[i + 1], due)
    completed = of_type(history, ev.StepCompleted)
    assert len(completed) == 1 and completed[0].attempt == failures + 1
    assert completed[0].ts - T0_MS >= sum(delays_ms)


async def test_exhausted_retries_are_catchable_in_the_workflow(any_db_url: str) -> None:
    app = legato.App()
    calls: list[int] = []

    @app.step(name="charge", retry=legato.Retry(max_attempts=3, initial=2))
    async def charge(amount: int) -> str:
        calls.append(legato.step_context().attempt)
        raise RuntimeError(f"gateway down for {amount}")

    @app.workflow(name="checkout")
    async def checkout(ctx: legato.Context, amount: int) -> dict[str, Any]:
        try:
            await ctx.step(charge, amount)
        except legato.StepFailed as exc:
            return {
                "fallback": True,
                "step": exc.step,
                "type": exc.error_type,
                "message": exc.message,
                "attempts": exc.attempts,
            }
        return {"fallback": False}

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(checkout, 42)
        assert await handle.result() == {
            "fallback": True,
            "step": "charge",
            "type": "RuntimeError",
            "message": "gateway down for 42",
            "attempts": 3,
        }
        status = await handle.status()
        history = await handle.history()

    assert calls == [1, 2, 3]
    assert status.status == legato.Status.COMPLETED
    assert [e.delay_ms for e in of_type(history, ev.StepRetryScheduled)] == [
        2_000,
        4_000,
    ]
    failed = of_type(history, ev.StepFailed)
    assert len(failed) == 1
    assert failed[0].attempt == 3
    assert failed[0].ts - history[0].ts >= 2_000 + 4_000  # virtual time went by
    assert failed[0].error_type == "RuntimeError"
    assert "gateway down for 42" in str(failed[0].traceback)


async def test_exhausted_retries_uncaught_fail_the_execution(any_db_url: str) -> None:
    app = legato.App()

    @app.step(name="charge", retry=legato.Retry(max_attempts=2, initial=1))
    async def charge() -> None:
        raise RuntimeError("card declined")

    @app.workflow(name="checkout")
    async def checkout(ctx: legato.Context) -> None:
        await ctx.step(charge)

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(checkout, id="order-1")
        with pytest.raises(legato.ExecutionFailedError) as info:
            await handle.result()
        status = await handle.status()
        history = await handle.history()

    assert (info.value.status, info.value.error_type) == ("FAILED", "RuntimeError")
    assert status.status == legato.Status.FAILED
    assert status.error_type == "RuntimeError"
    assert (
        status.error_message
        == "step 'charge' failed after 2 attempt(s): RuntimeError: card declined"
    )
    assert status.closed_at is not None
    failed = history[-1]
    assert isinstance(failed, ev.ExecutionFailed)
    assert failed.error_type == "RuntimeError"
    assert failed.message == status.error_message
    tb = failed.traceback
    assert "StepFailed" in tb and "checkout" in tb and "card declined" in tb


async def test_exception_raised_by_workflow_code_fails_the_execution(any_db_url: str) -> None:
    app = legato.App()

    @app.workflow(name="broken")
    async def broken(ctx: legato.Context, n: int) -> int:
        raise LookupError(f"no order {n}")

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(broken, 7)
        with pytest.raises(legato.ExecutionFailedError):
            await handle.result()
        status = await handle.status()
        history = await handle.history()

    assert (status.status, status.error_type, status.error_message) == (
        legato.Status.FAILED,
        "LookupError",
        "no order 7",
    )
    assert [e.type for e in history] == [
        ev.EventType.EXECUTION_STARTED,
        ev.EventType.EXECUTION_FAILED,
    ]
    failed = history[-1]
    assert isinstance(failed, ev.ExecutionFailed)
    assert "LookupError: no order 7" in failed.traceback


class CardDeclined(legato.NonRetryableError):
    pass


class SubValueError(ValueError):
    pass


@pytest.mark.parametrize(
    ("policy", "error", "error_type"),
    [
        (
            legato.Retry(max_attempts=5, non_retryable=[ValueError]),
            ValueError("bad card"),
            "ValueError",
        ),
        (
            legato.Retry(max_attempts=5, non_retryable=["ValueError"]),
            ValueError("bad card"),
            "ValueError",
        ),
        # a subclass of a listed class matches (any class of the MRO)
        (
            legato.Retry(max_attempts=5, non_retryable=[ValueError]),
            SubValueError("bad card"),
            "SubValueError",
        ),
        (
            legato.Retry(max_attempts=5, non_retryable=["LookupError"]),
            KeyError("bad card"),
            "KeyError",
        ),
        # NonRetryableError fails at once whatever the policy says
        (legato.Retry(max_attempts=5), CardDeclined("bad card"), "CardDeclined"),
        (legato.Retry(max_attempts=5), legato.NonRetryableError("bad card"), "NonRetryableError"),
    ],
)
async def test_non_retryable_errors_run_once(
    any_db_url: str, policy: legato.Retry, error: Exception, error_type: str
) -> None:
    app = legato.App()
    runs: list[int] = []

    @app.step(name="charge", retry=policy)
    async def charge() -> None:
        runs.append(legato.step_context().attempt)
        raise error

    @app.workflow(name="checkout")
    async def checkout(ctx: legato.Context) -> list[Any]:
        try:
            await ctx.step(charge)
        except legato.StepFailed as exc:
            return [exc.step, exc.error_type, exc.message, exc.attempts]
        return []

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(checkout)
        result = await handle.result()
        history = await handle.history()

    assert runs == [1]
    assert result == ["charge", error_type, str(error), 1]
    assert of_type(history, ev.StepRetryScheduled) == []
    assert [e.error_type for e in of_type(history, ev.StepFailed)] == [error_type]


async def test_error_not_listed_as_non_retryable_is_retried(any_db_url: str) -> None:
    app = legato.App()
    runs: list[int] = []

    @app.step(
        name="charge", retry=legato.Retry(max_attempts=3, initial=1, non_retryable=[KeyError])
    )
    async def charge() -> None:
        runs.append(legato.step_context().attempt)
        raise ValueError("bad card")

    @app.workflow(name="checkout")
    async def checkout(ctx: legato.Context) -> str:
        try:
            await ctx.step(charge)
        except legato.StepFailed as exc:
            return exc.error_type
        return "no error"

    async with WorkflowEnvironment(app, url=any_db_url):
        assert await (await app.start(checkout)).result() == "ValueError"
    assert runs == [1, 2, 3]


async def test_sync_step_is_retried_too(any_db_url: str) -> None:
    app = legato.App()
    runs: list[int] = []

    @app.step(name="sync_flaky", retry=legato.Retry(max_attempts=3, initial=30))
    def sync_flaky(x: int) -> int:
        attempt = legato.step_context().attempt
        runs.append(attempt)
        if attempt < 3:
            raise OSError("disk busy")
        return x * attempt

    @app.workflow(name="wf")
    async def wf(ctx: legato.Context) -> int:
        return await ctx.step(sync_flaky, 5)  # type: ignore[no-any-return]

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(wf)
        assert await handle.result() == 15
        history = await handle.history()
    assert runs == [1, 2, 3]
    assert [e.delay_ms for e in of_type(history, ev.StepRetryScheduled)] == [
        30_000,
        60_000,
    ]


async def test_step_context_idempotency_key_and_attempts(any_db_url: str) -> None:
    app = legato.App()
    seen: list[tuple[str, int, int, str, str]] = []

    @app.step(name="reserve", retry=legato.Retry(max_attempts=3, initial=1))
    async def reserve(item: str) -> str:
        ctx = legato.step_context()
        seen.append((ctx.idempotency_key, ctx.attempt, ctx.step_id, ctx.step, ctx.execution_id))
        if ctx.attempt < 3:
            raise TimeoutError("inventory slow")
        return ctx.idempotency_key

    @app.step(name="ship")
    async def ship() -> str:
        ctx = legato.step_context()
        seen.append((ctx.idempotency_key, ctx.attempt, ctx.step_id, ctx.step, ctx.execution_id))
        return ctx.idempotency_key

    @app.workflow(name="order")
    async def order(ctx: legato.Context) -> list[str]:
        return [await ctx.step(reserve, "book"), await ctx.step(ship)]

    async with WorkflowEnvironment(app, url=any_db_url):
        handle = await app.start(order, id="order-77")
        assert await handle.result() == ["order-77:1", "order-77:2"]

    assert seen == [
        ("order-77:1", 1, 1, "reserve", "order-77"),
        ("order-77:1", 2, 1, "reserve", "order-77"),
        ("order-77:1", 3, 1, "reserve", "order-77"),
        ("order-77:2", 1, 2, "ship", "order-77"),
    ]


async def test_step_context_outside_a_step_raises() -> None:
    with pytest.raises(legato.LegatoError, match="only available inside a running step"):
        legato.step_context()
    legato.heartbeat({"ignored": True})  # a no-op outside a step
