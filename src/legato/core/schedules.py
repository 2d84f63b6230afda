"""When a schedule fires, and what a fire does: pure functions of the spec and the instants
given (epoch milliseconds, UTC); the engine brings the clock.

- **Cron** (croniter's syntax; a sixth field is the seconds, croniter's convention, and
  ``@hourly`` and the like work) is evaluated on the local wall time of the schedule's IANA
  time zone. A wall time that does not exist (the hour skipped when daylight-saving time
  begins) does not fire; one that happens twice (the hour repeated when it ends) fires once,
  the first time.
- **Intervals** are absolute time: every ``interval_ms`` from the epoch, or from ``start_ms``
  when given (so a 1-day interval fires at 00:00 UTC, whatever the zone).
- ``start_ms`` and ``end_ms`` bound the fires (both inclusive).
- **Jitter** delays a fire by a fixed amount in ``[0, jitter_ms)`` drawn from a hash of
  (schedule, fire time): every replica and every restart agrees on it. The fire keeps its
  nominal time (its execution id and ``started_by`` name it); only when it starts moves.
- **Catch-up**: after a downtime the fires within ``catchup_window`` of now run; older ones
  are counted as missed and skipped (``catch_up``).
- **Overlap** (``OverlapPolicy``, Temporal's names): what a fire does while runs it started
  before are still open (``on_fire``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from legato.core import started_by as started
from legato.errors import ConfigurationError

MAX_CRON_STEPS = 100_000  # wall times looked at in one search: a cron that fires never ends it
MISSED_COUNT_LIMIT = 100_000  # missed fires counted one by one after a downtime, at most
_EPOCH = datetime(1970, 1, 1)


class OverlapPolicy(StrEnum):
    """What a fire does while a run the schedule started before is still open."""

    SKIP = "skip"  # the fire is recorded as skipped
    BUFFER_ONE = "buffer_one"  # kept (one at most) and started when the open runs closed
    ALLOW_ALL = "allow_all"  # started anyway
    CANCEL_OTHER = "cancel_other"  # the open runs are cancelled; it starts once they closed
    TERMINATE_OTHER = "terminate_other"  # the open runs are terminated; then it starts


class FireOutcome(StrEnum):
    """A fire as ``schedule_fires`` records it."""

    STARTED = "started"
    SKIPPED = "skipped_overlap"  # a run was open (skip), or one fire was buffered already
    BUFFERED = "buffered"  # waits for the open runs to close (buffer_one)
    CANCELLING = "cancelling_other"  # waits for the runs it cancelled (cancel_other)
    TERMINATING = "terminating_other"  # waits for the runs it terminated (terminate_other)


class FireKind(StrEnum):
    """Why a fire happened: its time came, an operator asked (``trigger``), or a backfill."""

    SCHEDULED = "scheduled"
    MANUAL = "manual"
    BACKFILL = "backfill"


def policy(value: str | OverlapPolicy) -> OverlapPolicy:
    try:
        return OverlapPolicy(value)
    except ValueError:
        choices = ", ".join(p.value for p in OverlapPolicy)
        raise ConfigurationError(f"overlap: {value!r} is not one of {choices}") from None


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """When a schedule fires: ``cron`` or ``interval_ms`` (exactly one)."""

    cron: str | None = None
    interval_ms: int | None = None
    timezone: str = "UTC"
    start_ms: int | None = None
    end_ms: int | None = None
    jitter_ms: int = 0

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem is not None:
            raise ConfigurationError(problem)

    def problem(self) -> str | None:
        """What is wrong with this spec, naming the field; None if nothing."""
        if (self.cron is None) == (self.interval_ms is None):
            return "a schedule needs exactly one of cron and interval"
        if self.cron is not None:
            if not isinstance(self.cron, str) or not self.cron.strip():
                return "cron: an expression is required"
            try:
                croniter(self.cron)
            except (CroniterBadCronError, ValueError, KeyError) as exc:
                return f"cron: {self.cron!r} is not a valid cron expression ({exc})"
        if self.interval_ms is not None and (
            not isinstance(self.interval_ms, int) or self.interval_ms < 1000
        ):
            return f"interval: must be at least 1 second, not {self.interval_ms} ms"
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            return f"timezone: {self.timezone!r} is not an IANA time zone (e.g. Europe/Berlin)"
        if self.start_ms is not None and self.end_ms is not None and self.end_ms < self.start_ms:
            return "end: must not be before start"
        if not isinstance(self.jitter_ms, int) or self.jitter_ms < 0:
            return f"jitter: must be 0 or more, not {self.jitter_ms} ms"
        return None

    def as_dict(self) -> dict[str, object]:
        """As stored (``schedules.spec``); ``from_dict`` reads it back."""
        out: dict[str, object] = {"timezone": self.timezone, "jitter_ms": self.jitter_ms}
        if self.cron is not None:
            out["cron"] = self.cron
        if self.interval_ms is not None:
            out["interval_ms"] = self.interval_ms
        if self.start_ms is not None:
            out["start_ms"] = self.start_ms
        if self.end_ms is not None:
            out["end_ms"] = self.end_ms
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ScheduleSpec:
        def ms(key: str) -> int | None:
            value = data.get(key)
            return None if value is None else int(str(value))

        cron = data.get("cron")
        return cls(
            cron=None if cron is None else str(cron),
            interval_ms=ms("interval_ms"),
            timezone=str(data.get("timezone", "UTC")),
            start_ms=ms("start_ms"),
            end_ms=ms("end_ms"),
            jitter_ms=ms("jitter_ms") or 0,
        )


def fire_times(spec: ScheduleSpec, after_ms: int, limit: int) -> list[int]:
    """The next ``limit`` fire times strictly after ``after_ms`` (fewer past the end)."""
    out: list[int] = []
    for at in _fires(spec, after_ms):
        if len(out) >= limit:
            break
        out.append(at)
    return out


def next_fire(spec: ScheduleSpec, after_ms: int) -> int | None:
    """The first fire time strictly after ``after_ms``; None if there is none (past the end)."""
    return next(_fires(spec, after_ms), None)


def fires_between(spec: ScheduleSpec, from_ms: int, to_ms: int, limit: int) -> list[int]:
    """The fire times in ``[from_ms, to_ms]``, in order, ``limit`` at most (a backfill)."""
    out: list[int] = []
    for at in _fires(spec, from_ms - 1):
        if at > to_ms or len(out) >= limit:
            break
        out.append(at)
    return out


def _fires(spec: ScheduleSpec, after_ms: int) -> Iterator[int]:
    after = after_ms
    if spec.start_ms is not None:
        after = max(after, spec.start_ms - 1)
    times = _interval_fires(spec, after) if spec.interval_ms else _cron_fires(spec, after)
    for at in times:
        if spec.end_ms is not None and at > spec.end_ms:
            return
        yield at


def _interval_fires(spec: ScheduleSpec, after_ms: int) -> Iterator[int]:
    step = spec.interval_ms
    assert step is not None
    anchor = spec.start_ms if spec.start_ms is not None else 0
    k = 0 if after_ms < anchor else (after_ms - anchor) // step + 1
    while True:
        yield anchor + k * step
        k += 1


def _cron_fires(spec: ScheduleSpec, after_ms: int) -> Iterator[int]:
    """Walk the cron's wall times in the zone (naive datetimes: croniter knows no DST), and
    place each in absolute time: a wall time that does not exist is skipped, an ambiguous one
    is taken at its first occurrence (``fold=0``)."""
    assert spec.cron is not None
    zone = ZoneInfo(spec.timezone)
    start = datetime.fromtimestamp(after_ms / 1000, tz=UTC).astimezone(zone)
    # croniter steps from a whole second; the fire strictly after ``after_ms`` is never before
    # the second it falls in
    wall = start.replace(tzinfo=None, microsecond=0)
    walk = croniter(spec.cron, wall)
    looked = 0
    while looked < MAX_CRON_STEPS:
        looked += 1
        try:
            nxt: datetime = walk.get_next(datetime)
        except CroniterBadDateError:  # e.g. 31 February: it never fires
            return
        at = _absolute(nxt, zone)
        if at is not None and at > after_ms:
            looked = 0
            yield at


def _absolute(wall: datetime, zone: ZoneInfo) -> int | None:
    """A local wall time as epoch ms; None if the zone skips it (a daylight-saving gap)."""
    placed = wall.replace(tzinfo=zone, fold=0)
    if placed.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    delta = placed.astimezone(UTC).replace(tzinfo=None) - _EPOCH
    return delta // timedelta(milliseconds=1)


def jitter(name: str, fire_ms: int, jitter_ms: int) -> int:
    """A delay in ``[0, jitter_ms)`` that is always the same for (schedule, fire time)."""
    if jitter_ms <= 0:
        return 0
    digest = hashlib.sha256(f"{name}\0{fire_ms}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % jitter_ms


class CatchUp(NamedTuple):
    """What a schedule whose fires came due while nobody ran it does now."""

    next_ms: int | None  # the fire to do next (within the window), or None (past the end)
    missed: int  # fires older than the window, skipped (counted up to MISSED_COUNT_LIMIT)


def catch_up(spec: ScheduleSpec, due_ms: int, now_ms: int, window_ms: int) -> CatchUp:
    """``due_ms`` is the schedule's next fire time, at or before ``now_ms``. Fires older than
    ``now_ms - window_ms`` are missed: counted (an interval's exactly, a cron's one by one up
    to a limit) and skipped; the first fire inside the window is the one to do next."""
    oldest = now_ms - window_ms
    if due_ms >= oldest:
        return CatchUp(due_ms, 0)
    if spec.interval_ms is not None:  # counted exactly: fires in [due_ms, oldest)
        last = oldest - 1 if spec.end_ms is None else min(oldest - 1, spec.end_ms)
        missed = (last - due_ms) // spec.interval_ms + 1
        return CatchUp(next_fire(spec, oldest - 1), missed)
    missed = 0
    at: int | None = due_ms
    while at is not None and at < oldest and missed < MISSED_COUNT_LIMIT:
        missed += 1
        at = next_fire(spec, at)
    if at is not None and at < oldest:  # too many to count: jump over the rest
        at = next_fire(spec, oldest - 1)
    return CatchUp(at, missed)


class FirePlan(NamedTuple):
    """What one fire does: start a run now, or not (and why), and what to ask of the runs
    still open."""

    outcome: FireOutcome
    start: bool
    buffer: bool  # keep this fire to start when the open runs closed
    cancel: bool  # ask the open runs to cancel
    terminate: bool  # terminate the open runs


def on_fire(policy: OverlapPolicy, open_runs: int, buffered: bool) -> FirePlan:
    """A fire comes due while ``open_runs`` runs of the schedule are open and (``buffered``)
    a fire waits already. At most one fire waits: a later one while it does is skipped."""
    if open_runs == 0 or policy == OverlapPolicy.ALLOW_ALL:
        if buffered and policy != OverlapPolicy.ALLOW_ALL:  # the waiting one goes first
            return FirePlan(FireOutcome.SKIPPED, False, False, False, False)
        return FirePlan(FireOutcome.STARTED, True, False, False, False)
    if policy == OverlapPolicy.SKIP or buffered:
        return FirePlan(FireOutcome.SKIPPED, False, False, False, False)
    if policy == OverlapPolicy.BUFFER_ONE:
        return FirePlan(FireOutcome.BUFFERED, False, True, False, False)
    if policy == OverlapPolicy.CANCEL_OTHER:
        return FirePlan(FireOutcome.CANCELLING, False, True, True, False)
    return FirePlan(FireOutcome.TERMINATING, False, True, False, True)


def execution_id(schedule: str, fire_ms: int) -> str:
    """A fire's execution id: the idempotency of a fire (two replicas, a restart, a backfill
    over a time that fired already all name the same execution)."""
    return f"{schedule}-{iso_utc(fire_ms)}"


def iso_utc(epoch_ms: int) -> str:
    """``2026-03-29T01:00:00Z``; milliseconds only when there are some."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if epoch_ms % 1000:
        text += f".{epoch_ms % 1000:03d}"
    return text + "Z"


def fire_started_by(schedule: str, fire_ms: int, kind: FireKind) -> dict[str, Any]:
    """The ``started_by`` of a fire's execution (``core/started_by.py``'s shape)."""
    return started.schedule_fire(
        schedule,
        iso_utc(fire_ms),
        backfill=kind == FireKind.BACKFILL,
        manual=kind == FireKind.MANUAL,
    )
