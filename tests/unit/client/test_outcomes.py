"""The error ``handle.result()`` raises for each status without a result (legato.client.outcomes),
matched by the status's value: ``TERMINATED`` maps before ``Status`` lists it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest

import legato
from legato.client.outcomes import Settled, error_for
from legato.core.events import Status, SuspendKind


@dataclass(frozen=True)
class Value:
    """A status as ``Status`` will hold it: all ``error_for`` reads of it is its value."""

    value: str


@dataclass(frozen=True)
class Row:
    status: Any
    error_type: str | None = "Why"
    error_message: str | None = "because"
    reason: str | None = None
    suspend_kind: SuspendKind | None = None


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("FAILED", legato.ExecutionFailedError),
        ("CANCELLED", legato.ExecutionCancelled),
        ("TERMINATED", legato.ExecutionTerminated),
        ("TIMED_OUT", legato.ExecutionTimedOut),
        ("SOMETHING_NEW", legato.ExecutionFailedError),
    ],
)
def test_each_closing_status_has_its_error(
    status: str, error: type[legato.ExecutionFailedError]
) -> None:
    raised = error_for("x", cast(Settled, Row(Value(status))))
    assert type(raised) is error
    assert isinstance(raised, legato.ExecutionFailedError)
    assert (raised.execution_id, raised.status, raised.error_type) == ("x", status, "Why")
    assert str(raised) == f"execution 'x' is {status}: Why: because"


def test_suspended_carries_its_kind_and_reason() -> None:
    row = Row(Status.SUSPENDED, None, None, "no such version", SuspendKind.UNREGISTERED)
    raised = error_for("x", cast(Settled, row))
    assert isinstance(raised, legato.ExecutionSuspended)
    assert (raised.kind, raised.reason) == ("unregistered", "no such version")
    assert str(raised) == "execution 'x' is SUSPENDED (unregistered): no such version"
