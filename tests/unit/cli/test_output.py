"""Times as the CLI shows them: local with the zone named (``--utc``: UTC), to the
millisecond, across a daylight-saving change; a schedule's time in its own zone as well."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from legato.cli import output
from legato.cli.schedule_render import when


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
    output.use_utc(False)


@pytest.mark.parametrize(
    ("instant", "local", "utc"),
    [
        (datetime(2026, 3, 29, 0, 30, 0, 120_000, UTC), "2026-03-29 01:30:00.120 CET",
         "2026-03-29 00:30:00.120 UTC"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03-29 03:30:00.000 CEST",
         "2026-03-29 01:30:00.000 UTC"),
    ],
)  # fmt: skip
def test_local_time_with_its_zone_or_utc(
    berlin: None, instant: datetime, local: str, utc: str
) -> None:
    output.use_utc(False)
    assert output.moment(instant) == local
    assert output.moment(None) == ""
    output.use_utc(True)
    assert output.moment(instant) == utc
    assert output.moment(instant, ms=False) == utc.replace(".120", "").replace(".000", "")


def test_a_schedule_time_in_its_own_zone_when_that_reads_otherwise(berlin: None) -> None:
    output.use_utc(False)
    assert when("2026-03-29T00:30:00Z", "Europe/Berlin") == "2026-03-29 01:30:00 CET"
    assert when("2026-03-29T00:30:00Z", "America/New_York") == (
        "2026-03-29 01:30:00 CET (2026-03-28 20:30:00 EDT)"
    )
    output.use_utc(True)
    assert when("2026-03-29T00:30:00Z", "Europe/Berlin") == (
        "2026-03-29 00:30:00 UTC (2026-03-29 01:30:00 CET)"
    )
