"""``core/schedules.py``: when a schedule fires (cron on local wall time across daylight-saving
changes, intervals in absolute time), jitter, catch-up and the overlap policies, as tables of
instants: no clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.core.schedules import (
    FireKind,
    FireOutcome,
    OverlapPolicy,
    ScheduleSpec,
    catch_up,
    execution_id,
    fire_started_by,
    fire_times,
    fires_between,
    iso_utc,
    jitter,
    next_fire,
    on_fire,
)
from legato.errors import ConfigurationError

BERLIN = "Europe/Berlin"
MINUTE = 60_000
HOUR = 60 * MINUTE


def ms(text: str) -> int:
    """``2026-03-29T01:00:00Z`` as epoch ms."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def isos(times: list[int]) -> list[str]:
    return [iso_utc(t) for t in times]


# 2026: summer time begins Sunday 29 March (02:00 CET -> 03:00 CEST: 02:xx does not exist) and
# ends Sunday 25 October (03:00 CEST -> 02:00 CET: 02:xx happens twice).
@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        # a daily 02:30 on the spring-forward day does not exist: that day has no fire
        ("30 2 * * *", "2026-03-27T12:00:00Z",
         ["2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"]),
        # on the fall-back day 02:30 happens twice: it fires once, the first time (CEST)
        ("30 2 * * *", "2026-10-24T12:00:00Z",
         ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]),
        # hourly across spring-forward: 01:00 CET, (02:00 skipped), 03:00 CEST, 04:00 CEST
        ("0 * * * *", "2026-03-28T23:30:00Z",
         ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"]),
        # hourly across fall-back: 02:00 CEST fires, 02:00 CET (the second time) does not
        ("0 * * * *", "2026-10-24T23:30:00Z",
         ["2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"]),
        # from inside the repeated hour's second pass: its wall times fired in the first pass
        ("*/30 * * * *", "2026-10-25T01:10:00Z",
         ["2026-10-25T02:00:00Z", "2026-10-25T02:30:00Z"]),
        # a 6-field cron: the last field is the seconds (croniter's convention)
        ("* * * * * 30", "2026-01-01T00:00:00Z",
         ["2026-01-01T00:00:30Z", "2026-01-01T00:01:30Z"]),
        ("@hourly", "2026-01-01T00:00:00Z", ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"]),
    ],
)  # fmt: skip
def test_cron_on_berlin_wall_time(cron: str, after: str, expected: list[str]) -> None:
    spec = ScheduleSpec(cron=cron, timezone=BERLIN if not cron.startswith("@") else "UTC")
    assert isos(fire_times(spec, ms(after), len(expected))) == expected


def test_fire_times_are_strictly_after() -> None:
    spec = ScheduleSpec(cron="0 * * * *")
    assert isos(fire_times(spec, ms("2026-01-01T01:00:00Z"), 1)) == ["2026-01-01T02:00:00Z"]
    assert isos(fire_times(spec, ms("2026-01-01T00:59:59Z"), 1)) == ["2026-01-01T01:00:00Z"]


def test_intervals_are_absolute_time_from_the_epoch_or_the_start() -> None:
    hourly = ScheduleSpec(interval_ms=HOUR, timezone=BERLIN)
    after = ms("2026-03-29T00:10:00Z")
    assert isos(fire_times(hourly, after, 3)) == [
        "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", "2026-03-29T03:00:00Z",
    ]  # fmt: skip
    started = ScheduleSpec(interval_ms=HOUR, start_ms=ms("2026-03-29T00:05:00Z"))
    assert isos(fire_times(started, 0, 2)) == ["2026-03-29T00:05:00Z", "2026-03-29T01:05:00Z"]
    assert isos(fire_times(started, after, 1)) == ["2026-03-29T01:05:00Z"]


def test_start_and_end_bound_the_fires_inclusively() -> None:
    spec = ScheduleSpec(
        cron="0 * * * *", start_ms=ms("2026-01-01T02:00:00Z"), end_ms=ms("2026-01-01T04:00:00Z")
    )
    assert isos(fire_times(spec, 0, 10)) == [
        "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z", "2026-01-01T04:00:00Z",
    ]  # fmt: skip
    assert next_fire(spec, ms("2026-01-01T04:00:00Z")) is None
    window = fires_between(spec, ms("2026-01-01T03:00:00Z"), ms("2026-01-01T05:00:00Z"), 10)
    assert isos(window) == ["2026-01-01T03:00:00Z", "2026-01-01T04:00:00Z"]


def test_a_cron_that_never_fires_has_no_next_fire() -> None:
    assert next_fire(ScheduleSpec(cron="0 0 31 2 *"), 0) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "exactly one of cron and interval"),
        ({"cron": "0 * * * *", "interval_ms": 60_000}, "exactly one of cron and interval"),
        ({"cron": "not a cron"}, "cron:"),
        ({"cron": "61 * * * *"}, "cron:"),
        ({"interval_ms": 10}, "interval:"),
        ({"cron": "@daily", "timezone": "Europe/Nowhere"}, "timezone:"),
        ({"cron": "@daily", "start_ms": 10, "end_ms": 5}, "end:"),
        ({"cron": "@daily", "jitter_ms": -1}, "jitter:"),
    ],
)
def test_a_bad_spec_names_its_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        ScheduleSpec(**kwargs)  # type: ignore[arg-type]


def test_spec_round_trips_as_stored() -> None:
    spec = ScheduleSpec(cron="*/5 * * * *", timezone=BERLIN, start_ms=1, end_ms=2, jitter_ms=3)
    assert ScheduleSpec.from_dict(spec.as_dict()) == spec
    assert ScheduleSpec.from_dict(ScheduleSpec(interval_ms=5000).as_dict()).interval_ms == 5000


@given(st.text(min_size=1, max_size=20), st.integers(0, 2**41), st.integers(1, 10**7))
def test_jitter_is_fixed_per_fire_and_within_bounds(name: str, fire: int, bound: int) -> None:
    drawn = jitter(name, fire, bound)
    assert 0 <= drawn < bound
    assert jitter(name, fire, bound) == drawn
    assert jitter(name, fire, 0) == 0


_CRONS = ["0 * * * *", "*/15 * * * *", "30 2 * * *", "0 0 * * 0", "* * * * * 30", "5 1-3 * * *"]
_ZONES = ["UTC", BERLIN, "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]


@given(
    st.sampled_from(_CRONS),
    st.sampled_from(_ZONES),
    st.integers(ms("2020-01-01T00:00:00Z"), ms("2030-01-01T00:00:00Z")),
)
def test_cron_fires_increase_exist_and_follow_each_other(cron: str, zone: str, after: int) -> None:
    spec = ScheduleSpec(cron=cron, timezone=zone)
    times = fire_times(spec, after, 4)
    assert len(times) == 4
    assert times[0] > after
    assert times == sorted(set(times))
    tz = ZoneInfo(zone)
    for earlier, later in zip(times, times[1:], strict=False):
        assert next_fire(spec, earlier) == later  # the walk is the same from any fire
    for t in times:  # each is a wall time of the zone, at its first occurrence
        local = datetime.fromtimestamp(t / 1000, tz=UTC).astimezone(tz)
        first = local.replace(fold=0).astimezone(UTC)
        assert first == local.astimezone(UTC)


@given(st.integers(1, 10**6), st.integers(0, 2**40), st.integers(1000, 10**8))
def test_interval_fires_are_aligned(anchor_gap: int, after: int, step: int) -> None:
    spec = ScheduleSpec(interval_ms=step, start_ms=anchor_gap)
    first, second = fire_times(spec, after, 2)
    assert first > after and first - anchor_gap >= 0 and (first - anchor_gap) % step == 0
    assert second - first == step


def test_catch_up_within_the_window_fires_the_due_one() -> None:
    spec = ScheduleSpec(interval_ms=MINUTE)
    now = ms("2026-01-01T12:00:30Z")
    assert catch_up(spec, ms("2026-01-01T12:00:00Z"), now, MINUTE) == (
        ms("2026-01-01T12:00:00Z"), 0,
    )  # fmt: skip


def test_catch_up_beyond_the_window_counts_the_older_fires_as_missed() -> None:
    now = ms("2026-01-01T12:00:00Z")
    due = ms("2026-01-01T11:50:00Z")
    for spec in (ScheduleSpec(interval_ms=MINUTE), ScheduleSpec(cron="* * * * *")):
        # fires at 11:50 ... 11:58 are older than 11:59 (now - 1 min): 9 missed; 11:59 runs
        assert catch_up(spec, due, now, MINUTE) == (ms("2026-01-01T11:59:00Z"), 9)
    daily = ScheduleSpec(cron="0 3 * * *")
    # down since 30 December: three fires missed, and the next one is tomorrow's
    assert catch_up(daily, ms("2025-12-30T03:00:00Z"), now, MINUTE) == (
        ms("2026-01-02T03:00:00Z"), 3,
    )  # fmt: skip


def test_catch_up_with_no_window_misses_everything_already_past() -> None:
    spec = ScheduleSpec(interval_ms=MINUTE)
    now = ms("2026-01-01T12:00:30Z")
    assert catch_up(spec, ms("2026-01-01T12:00:00Z"), now, 0) == (ms("2026-01-01T12:01:00Z"), 1)


@pytest.mark.parametrize(
    ("policy", "open_runs", "buffered", "outcome", "start", "buffer", "cancel", "terminate"),
    [
        (OverlapPolicy.SKIP, 0, False, FireOutcome.STARTED, True, False, False, False),
        (OverlapPolicy.SKIP, 1, False, FireOutcome.SKIPPED, False, False, False, False),
        (OverlapPolicy.BUFFER_ONE, 1, False, FireOutcome.BUFFERED, False, True, False, False),
        (OverlapPolicy.BUFFER_ONE, 1, True, FireOutcome.SKIPPED, False, False, False, False),
        (OverlapPolicy.ALLOW_ALL, 3, False, FireOutcome.STARTED, True, False, False, False),
        (OverlapPolicy.CANCEL_OTHER, 1, False, FireOutcome.CANCELLING, False, True, True, False),
        (OverlapPolicy.CANCEL_OTHER, 0, False, FireOutcome.STARTED, True, False, False, False),
        (OverlapPolicy.TERMINATE_OTHER, 2, False, FireOutcome.TERMINATING, False, True, False,
         True),
        (OverlapPolicy.TERMINATE_OTHER, 1, True, FireOutcome.SKIPPED, False, False, False, False),
    ],
)  # fmt: skip
def test_overlap_policies(
    policy: OverlapPolicy,
    open_runs: int,
    buffered: bool,
    outcome: FireOutcome,
    start: bool,
    buffer: bool,
    cancel: bool,
    terminate: bool,
) -> None:
    assert on_fire(policy, open_runs, buffered) == (outcome, start, buffer, cancel, terminate)


def test_a_fire_is_named_by_its_schedule_and_time() -> None:
    at = ms("2026-03-29T01:00:00Z")
    assert execution_id("nightly", at) == "nightly-2026-03-29T01:00:00Z"
    assert iso_utc(at + 5) == "2026-03-29T01:00:00.005Z"
    assert fire_started_by("nightly", at, FireKind.SCHEDULED) == {
        "kind": "schedule", "schedule": "nightly", "fire_time": "2026-03-29T01:00:00Z",
        "backfill": False,
    }  # fmt: skip
    assert fire_started_by("nightly", at, FireKind.MANUAL)["manual"] is True
    assert fire_started_by("nightly", at, FireKind.BACKFILL)["backfill"] is True
