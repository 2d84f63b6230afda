"""Wait states end to end (ASL spec, "Wait State"; developer guide, "Wait workflow state").

The test kit skips time, so a wait costs nothing; the durable timer each Wait starts records
how long it waits (its ``fire_at`` minus its start).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single, timer_delays, timer_fire_times

START = datetime(2016, 3, 14, 1, 58, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "given", "seconds"),
    [
        # ASL spec, "Wait State": the example "Seconds": 10.
        ({"Type": "Wait", "Seconds": 10}, {}, 10),
        # ASL spec, "Wait State": the example "SecondsPath": "$.expiryseconds".
        ({"Type": "Wait", "SecondsPath": "$.expiryseconds"}, {"expiryseconds": 5}, 5),
    ],
)
async def test_wait_seconds(state: dict[str, Any], given: Any, seconds: float) -> None:
    r = await run_state_machine(single(state), given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert timer_delays(r.history) == [seconds]
    # ASL spec, "Wait State": the state's output is its input (no result).
    assert r.output == given


# The skipping clock still runs in real time between skips, so a Wait until a timestamp is
# checked by the instant its timer fires at, not by how long it waited.
@pytest.mark.parametrize(
    ("state", "given", "until"),
    [
        # ASL spec, "Wait State": the example "Timestamp": "2016-03-14T01:59:00Z".
        (
            {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z"},
            {},
            datetime(2016, 3, 14, 1, 59, tzinfo=UTC),
        ),
        # ASL spec, "Wait State": the example "TimestampPath": "$.expirydate".
        (
            {"Type": "Wait", "TimestampPath": "$.expirydate"},
            {"expirydate": "2016-03-14T02:00:00Z"},
            datetime(2016, 3, 14, 2, 0, tzinfo=UTC),
        ),
        # ASL spec, "Timestamps": RFC3339 with a numeric offset.
        (
            {"Type": "Wait", "Timestamp": "2016-03-14T02:59:30+01:00"},
            {},
            datetime(2016, 3, 14, 1, 59, 30, tzinfo=UTC),
        ),
        # ASL spec, "Timestamps": fractional seconds are allowed.
        (
            {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00.250Z"},
            {},
            datetime(2016, 3, 14, 1, 59, 0, 250000, tzinfo=UTC),
        ),
    ],
)
async def test_wait_until_timestamp(state: dict[str, Any], given: Any, until: datetime) -> None:
    r = await run_state_machine(single(state), given, start=START)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert timer_fire_times(r.history) == [until]
    assert r.output == given


@pytest.mark.parametrize(
    ("state", "given", "expected"),
    [
        # ASL spec, "Wait State" allows InputPath and OutputPath.
        ({"Type": "Wait", "Seconds": 1, "InputPath": "$.a"}, {"a": {"b": 1}}, {"b": 1}),
        ({"Type": "Wait", "Seconds": 1, "OutputPath": "$.a.b"}, {"a": {"b": 1}}, 1),
    ],
)
async def test_wait_filters(state: dict[str, Any], given: Any, expected: Any) -> None:
    r = await run_state_machine(single(state), given)
    assert r.output == expected


async def test_wait_then_the_next_state_enters_later() -> None:
    # ASL spec, "Wait State": "causes the interpreter to delay the machine from continuing
    # for a specified time"; developer guide, "Context object": State.EnteredTime.
    definition = chain(
        ("W", {"Type": "Wait", "Seconds": 3600}),
        ("T", {"Type": "Pass", "Parameters": {"entered.$": "$$.State.EnteredTime"}}),
    )
    r = await run_state_machine(definition, {}, start=START, still_time=True)
    entered = datetime.fromisoformat(r.output["entered"].replace("Z", "+00:00"))
    # An hour after the start (the clock stands still but for its skips).
    assert timedelta(hours=1) <= entered - START < timedelta(hours=1, seconds=5)


async def test_wait_jsonata_seconds() -> None:
    # Developer guide, "Wait workflow state" (JSONata): Seconds may be an expression.
    state = {"Type": "Wait", "Seconds": "{% $states.input.delay * 2 %}"}
    r = await run_state_machine(single(state, QueryLanguage="JSONata"), {"delay": 4})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert timer_delays(r.history) == [8]
    assert r.output == {"delay": 4}


async def test_wait_jsonata_timestamp() -> None:
    # Developer guide, "Wait workflow state" (JSONata): Timestamp may be an expression.
    state = {"Type": "Wait", "Timestamp": "{% $states.input.at %}"}
    r = await run_state_machine(
        single(state, QueryLanguage="JSONata"), {"at": "2016-03-14T01:58:30Z"}, start=START
    )
    assert timer_fire_times(r.history) == [datetime(2016, 3, 14, 1, 58, 30, tzinfo=UTC)]
