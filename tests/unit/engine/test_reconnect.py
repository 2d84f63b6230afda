"""Riding through an unreachable database (legato.engine.reconnect): transient errors are
retried, others raised at once, and an outage longer than the bound is raised with a note."""

from __future__ import annotations

import pytest

from legato.core.backoff import RECONNECT
from legato.engine.reconnect import Outage, reconnecting
from legato.errors import DatabaseUnavailableError, ExecutionNotFound, StoreError


class Flaky:
    """Fails with the given errors, one per call, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def down() -> DatabaseUnavailableError:
    return DatabaseUnavailableError("cannot reach database x: server closed the connection")


async def test_transient_errors_are_retried_until_the_database_answers() -> None:
    op = Flaky(down(), down())
    assert await reconnecting(op, 60, "reading") == "answer"
    assert op.calls == 3


@pytest.mark.parametrize(
    "error", [ExecutionNotFound("x"), StoreError("database x: syntax error"), ValueError("bad")]
)
async def test_other_errors_are_raised_at_once(error: Exception) -> None:
    op = Flaky(error)
    with pytest.raises(type(error)):
        await reconnecting(op, 60, "reading")
    assert op.calls == 1


async def test_an_outage_longer_than_the_bound_is_raised_with_a_note() -> None:
    op = Flaky(*[down() for _ in range(1000)])
    with pytest.raises(DatabaseUnavailableError) as info:
        await reconnecting(op, 0.3, "starting execution 'e'")
    assert op.calls > 1
    assert info.value.__notes__ == ["starting execution 'e': gave up after retrying for 0.3s"]


async def test_no_bound_raises_at_once() -> None:
    op = Flaky(down())
    with pytest.raises(DatabaseUnavailableError):
        await reconnecting(op, 0, "reading")
    assert op.calls == 1


async def test_an_answer_starts_the_next_outage_afresh() -> None:
    outage = Outage(60)
    for _ in range(6):
        outage.failed(down(), "polling")
    outage.ok()
    # the first pause of an outage again: at most the backoff's first step (with its jitter)
    assert outage.failed(down(), "polling") <= RECONNECT.initial
    with pytest.raises(ExecutionNotFound):
        outage.failed(ExecutionNotFound("x"), "polling")
