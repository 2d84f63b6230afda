"""Fires schedules: in every orchestrating engine, for the schedules whose partition
(``partition_of(name)``) this replica holds, so each schedule has one scheduler at a time and
a replica that loses a partition stops firing its schedules.

It sleeps until the next fire is due (``clock.call_at``: a time-skipping clock jumps there),
until woken (a schedule changed here, partitions moved, a run it waits for closed), or a few
seconds at most (``FALLBACK_S``: what other processes changed). Each fire is one transaction
(``Schedules.fire_schedule``) guarded by the schedule's revision, and its execution's id is
the fire's: a replica that lost the partition mid-fire, or a restart, never starts it twice.
While it works it counts as busy for ``Engine.idle``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from legato.core import decide, started_by
from legato.core.schedules import (
    FireKind,
    FireOutcome,
    catch_up,
    execution_id,
    fire_started_by,
    iso_utc,
    jitter,
    next_fire,
)
from legato.core.transition import NewExecution
from legato.engine.orchestrator import Orchestrator, Wake
from legato.engine.pause import wait_or_timeout
from legato.engine.registry import Registry, WorkflowDef
from legato.engine.stored_machines import StateMachines
from legato.errors import LegatoError
from legato.ports.clock import Clock, TimerHandle
from legato.ports.schedules import Fire, Schedule
from legato.ports.store import Store

log = logging.getLogger("legato.schedules")
FALLBACK_S = 2.0  # the longest it goes without reading its schedules again
FIRES_PER_ROUND = 1000  # fires of one schedule in one round at most (then it reads again)


async def workflow_of(
    store: Store, registry: Registry, machines: StateMachines, name: str, version: str | None
) -> WorkflowDef:
    """What a schedule starts: the registered workflow (that version, or the latest
    registered), else the stored state machine (that version, or its latest)."""
    wf = registry.registered(name, version)
    return wf if wf is not None else await machines.for_start(store, name, version)


def fire_execution(
    wf: WorkflowDef, schedule: Schedule, fire_ms: int, kind: FireKind, now: int
) -> NewExecution:
    """The PENDING execution a fire starts; its id is the fire's, and it records the fire as
    what started it."""
    trigger = started_by.encode(fire_started_by(schedule.name, fire_ms, kind))
    return decide.pending_start(
        execution_id(schedule.name, fire_ms), wf.name, wf.version, schedule.input, now,
        wf.timeout_ms, None, trigger,
    )  # fmt: skip


class ScheduleRunner:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        machines: StateMachines,
        clock: Clock,
        orchestrator: Orchestrator,
        wake_orchestrator: Callable[[], None],
    ) -> None:
        self.store = store
        self.registry = registry
        self.machines = machines
        self.clock = clock
        self.orch = orchestrator
        self.wake_orchestrator = wake_orchestrator
        self.busy = True  # until its first round is done
        self.fires = 0  # scheduled fires this runner recorded (not those it lost to a race)
        self._wake = asyncio.Event()
        self._stopping = False
        self._timer: TimerHandle | None = None
        self._waiting_on: set[str] = set()  # runs that a buffered fire waits for

    def wake(self) -> None:
        """Read the schedules again now (one changed, partitions moved)."""
        self.busy = True
        self._wake.set()

    def closed(self, execution_id: str) -> None:
        """An execution closed: a fire buffered behind it may start now."""
        if execution_id in self._waiting_on:
            self.wake()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._timer is not None:
            self._timer.cancel()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self.busy = True
            due: int | None = None
            try:
                due = await self.round()
            except Exception as exc:
                log.warning("firing schedules failed (%s); trying again", exc)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if due is not None and not self._stopping:
                self._timer = self.clock.call_at(due, self.wake)
            self.busy = self._wake.is_set()
            await wait_or_timeout(self._wake, FALLBACK_S)

    async def round(self) -> int | None:
        """Fire what is due of this replica's schedules; when the next fire is due."""
        parts = sorted(self.orch.owned)
        self._waiting_on = set()
        if not parts:
            return None
        schedules = [s for s in await self.store.list_schedules(parts) if not s.paused]
        # side by side: one schedule's backlog does not hold the others' fires back (and on
        # SQLite their fires share group commits)
        tended = await asyncio.gather(*(self._tend_one(s) for s in schedules))
        due = min((at for at in tended if at is not None), default=None)
        return None if self._stopping else due

    async def _tend_one(self, schedule: Schedule) -> int | None:
        try:
            s, at = await self._tend(schedule)
            if s.buffered_ms is not None and s.running:
                # watched first, then looked at: a run closing in between is not missed
                self._waiting_on.update(s.running)
                if await self._all_closed(s):
                    at = self.clock.now_ms()
            return at
        except Exception as exc:
            log.warning("schedule %s: firing failed (%s); trying again", schedule.name, exc)
            return self.clock.now_ms() + 1000

    async def _tend(self, s: Schedule) -> tuple[Schedule, int | None]:
        """Start its buffered fire if the runs it waits for closed, then fire what is due;
        returns the schedule as it is now and when it is due next."""
        if s.buffered_ms is not None:
            s = await self._buffered(s)
        for _ in range(FIRES_PER_ROUND):
            if s.next_fire_ms is None or s.paused or self._stopping:
                return s, None
            now = self.clock.now_ms()
            due = s.next_fire_ms + jitter(s.name, s.next_fire_ms, s.spec.jitter_ms)
            if due > now:
                return s, due
            moved = await self._fire_due(s, now)
            if moved is None:
                return s, None
            s = moved
        return s, self.clock.now_ms()  # more to do: next round at once

    async def _all_closed(self, s: Schedule) -> bool:
        """None of its runs is PENDING or RUNNING (as the fire's own check says)."""
        settled = {row.id for row in await self.store.settled_executions(list(s.running))}
        for eid in s.running:
            if eid not in settled and await self.store.load_execution(eid) is not None:
                return False
        return True

    async def _buffered(self, s: Schedule) -> Schedule:
        assert s.buffered_ms is not None
        if s.running and not await self._all_closed(s):
            return s
        now = self.clock.now_ms()
        new = await self._execution(s, s.buffered_ms, FireKind.SCHEDULED, now)
        fire = Fire(s.name, s.revision, s.buffered_ms, FireKind.SCHEDULED, new, s.next_fire_ms,
                    from_buffer=True, now=now)  # fmt: skip
        done = await self.store.fire_schedule(fire)
        if done.outcome is not None:
            self._started(s, s.buffered_ms, done.execution_id, done.created, "buffered fire")
        return await self.store.get_schedule(s.name) or s

    async def _fire_due(self, s: Schedule, now: int) -> Schedule | None:
        """Fire the schedule's next fire (or skip the fires older than its catch-up window);
        the schedule as it is now, None if it is gone."""
        assert s.next_fire_ms is not None
        catch = catch_up(s.spec, s.next_fire_ms, now, s.catchup_window_ms)
        if catch.missed:
            log.warning(
                "schedule %s: %d fire(s) from %s missed (older than its catch-up window of "
                "%ss); skipped",
                s.name, catch.missed, iso_utc(s.next_fire_ms), s.catchup_window_ms / 1000,
            )  # fmt: skip
        fire_ms = catch.next_ms
        if fire_ms is None or fire_ms + jitter(s.name, fire_ms, s.spec.jitter_ms) > now:
            # nothing within the window is due: only the missed ones are recorded
            moved = _replace(s, now, next_fire_ms=fire_ms, missed=s.missed + catch.missed)
            await self.store.update_schedule(moved, s.revision)
            return await self.store.get_schedule(s.name)
        following = next_fire(s.spec, fire_ms)
        try:
            new = await self._execution(s, fire_ms, FireKind.SCHEDULED, now)
        except LegatoError as exc:
            log.error("schedule %s: cannot start %r (%s); fire %s skipped",
                      s.name, s.workflow, exc, iso_utc(fire_ms))  # fmt: skip
            moved = _replace(s, now, next_fire_ms=following, skipped=s.skipped + 1,
                             missed=s.missed + catch.missed)  # fmt: skip
            await self.store.update_schedule(moved, s.revision)
            return await self.store.get_schedule(s.name)
        fire = Fire(s.name, s.revision, fire_ms, FireKind.SCHEDULED, new, following,
                    catch.missed, now=now)  # fmt: skip
        done = await self.store.fire_schedule(fire)
        if done.outcome is not None:
            self.fires += 1
        if done.outcome == FireOutcome.STARTED:
            self._started(s, fire_ms, done.execution_id, done.created, "fired")
        elif done.outcome is not None:
            log.info("schedule %s: fire %s %s (overlap %s)", s.name, iso_utc(fire_ms),
                     done.outcome.value, s.overlap.value)  # fmt: skip
            if done.stopped:
                self.wake_orchestrator()  # the cancellations are inbox messages
        return await self.store.get_schedule(s.name)

    async def _execution(self, s: Schedule, fire_ms: int, kind: FireKind, now: int) -> NewExecution:
        wf = await workflow_of(self.store, self.registry, self.machines, s.workflow, s.version)
        return fire_execution(wf, s, fire_ms, kind, now)

    def _started(
        self, s: Schedule, fire_ms: int, execution_id: str | None, created: bool, what: str
    ) -> None:
        if execution_id is None:
            return
        if created:
            log.info("schedule %s: %s %s, started %s", s.name, what, iso_utc(fire_ms),
                     execution_id)  # fmt: skip
        if self.orch.owns(execution_id):  # decided here: now, not at the next poll
            self.orch.deliver(execution_id, Wake())
        else:
            self.wake_orchestrator()


def _replace(s: Schedule, now: int, **changes: Any) -> Schedule:
    """The schedule changed by the scheduler, at its next revision."""
    return replace(s, revision=s.revision + 1, updated_at=now, **changes)
