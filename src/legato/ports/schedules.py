"""Port: schedules (migration 0010) and the record of their fires.

A schedule's row is its definition (spec, workflow, input, policies) and its state: the next
fire time, the runs it started that may still be open, a fire waiting for them to close, the
counters. Every change is guarded by ``revision`` (compare and set), so two scheduler replicas
or an operator and a scheduler never both act on one state. A fire is one transaction
(``fire_schedule``): the guarded schedule update, the ``schedule_fires`` row (primary key
(schedule, fire time): a fire is recorded once) and the PENDING execution it starts, whose id
is the fire's (``core.schedules.execution_id``), so nothing starts a fire's run twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from legato.core import codec
from legato.core.durations import instant
from legato.core.schedules import (
    FireKind,
    FireOutcome,
    OverlapPolicy,
    ScheduleSpec,
    iso_utc,
)
from legato.core.transition import NewExecution


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_utc(ms)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A stored schedule. ``input``: the workflow's arguments as JSON ``[args, kwargs]``;
    ``version`` None: the version registered (or stored) latest when it fires; ``origin``:
    ``code`` (``app.schedule``, updated at every start-up) or ``api``."""

    name: str
    workflow: str
    version: str | None
    spec: ScheduleSpec
    input: str
    overlap: OverlapPolicy
    catchup_window_ms: int
    paused: bool
    note: str | None
    next_fire_ms: int | None  # None: no fire left (past its end)
    buffered_ms: int | None  # a fire waiting for the open runs to close
    running: tuple[str, ...]  # executions it started that were open when last looked at
    missed: int  # fires skipped because they were older than the catch-up window
    skipped: int  # fires skipped by the overlap policy
    started: int
    revision: int
    origin: str
    partition: int
    created_at: int
    updated_at: int

    def as_json(self) -> dict[str, Any]:
        """As the API and ``--json`` show it (times RFC 3339 in UTC)."""
        spec = self.spec
        return {
            "name": self.name,
            "workflow": self.workflow,
            "version": self.version,
            "cron": spec.cron,
            "interval_seconds": None if spec.interval_ms is None else spec.interval_ms / 1000,
            "timezone": spec.timezone,
            "start_at": _iso(spec.start_ms),
            "end_at": _iso(spec.end_ms),
            "jitter_seconds": spec.jitter_ms / 1000,
            "input": codec.loads(self.input),
            "overlap": self.overlap.value,
            "catchup_window_seconds": self.catchup_window_ms / 1000,
            "paused": self.paused,
            "note": self.note,
            "next_fire_time": _iso(self.next_fire_ms),
            "buffered_fire_time": _iso(self.buffered_ms),
            "running": list(self.running),
            "missed": self.missed,
            "skipped": self.skipped,
            "started": self.started,
            "origin": self.origin,
            "created_at": instant(self.created_at).isoformat(),
            "updated_at": instant(self.updated_at).isoformat(),
        }


@dataclass(frozen=True, slots=True)
class ScheduleFire:
    """One fire as recorded: when it was due, why it happened, what it did, its execution
    (None while it waits, or if it was skipped), when it was recorded."""

    schedule: str
    fire_ms: int
    kind: FireKind
    outcome: FireOutcome
    execution_id: str | None
    at_ms: int

    def as_json(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "fire_time": iso_utc(self.fire_ms),
            "kind": self.kind.value,
            "outcome": self.outcome.value,
            "execution_id": self.execution_id,
            "recorded_at": instant(self.at_ms).isoformat(),
        }


class Fire(NamedTuple):
    """One fire to record. ``revision``: the schedule's as the caller read it (a scheduled or
    buffered fire is refused if it moved on; manual and backfill fires need none).
    ``new``: the execution to start if the fire starts one. ``next_fire_ms``: the schedule's
    next fire time after this one (a scheduled fire moves it; others keep it). ``missed``:
    fires skipped before this one because they were older than the catch-up window.
    ``from_buffer``: this is the buffered fire, now that the open runs closed."""

    name: str
    revision: int | None
    fire_ms: int
    kind: FireKind
    new: NewExecution | None
    next_fire_ms: int | None
    missed: int = 0
    from_buffer: bool = False
    now: int = 0


class FireResult(NamedTuple):
    """``outcome`` None: nothing was done (the schedule moved on since it was read, or is
    gone). ``created``: the execution was inserted now (False: it existed, this fire had
    started it before). ``stopped``: the open runs asked to cancel or terminated."""

    outcome: FireOutcome | None
    execution_id: str | None = None
    created: bool = False
    stopped: tuple[str, ...] = ()


class Schedules(Protocol):
    async def insert_schedule(self, schedule: Schedule) -> bool:
        """Store a new schedule; False if one of that name exists (nothing written)."""
        ...

    async def update_schedule(self, schedule: Schedule, expected_revision: int) -> bool:
        """Write every field of ``schedule`` (its revision included) if the stored one is
        still at ``expected_revision``; False if it moved on or is gone."""
        ...

    async def get_schedule(self, name: str) -> Schedule | None: ...

    async def list_schedules(self, partitions: list[int] | None = None) -> list[Schedule]:
        """By name; only those in ``partitions`` if given (a scheduler's own)."""
        ...

    async def delete_schedule(self, name: str) -> bool:
        """Delete it and its fire records (its executions stay); False if there was none."""
        ...

    async def fire_schedule(self, fire: Fire) -> FireResult:
        """Record one fire in one transaction, as the schedule's overlap policy says
        (``core.schedules.on_fire``, over its runs still open as read in that transaction)."""
        ...

    async def schedule_fires(self, name: str, limit: int) -> list[ScheduleFire]:
        """Its most recent fires, newest first."""
        ...
