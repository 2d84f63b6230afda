"""Schedules as ``App`` offers them (``ScheduleMethods``, a part of ``App``).

A schedule is declared in code (``app.schedule(...)``: created, or updated, whenever an
orchestrating engine of the app starts; its pause state stays an operator's) or made through
the API and CLI (``create_schedule``). Every call goes through the store, retried while the
database cannot be reached; a change is a compare-and-set on the schedule's revision (tried
again if a scheduler fired meanwhile), and wakes this process's scheduler.

Backfill (``backfill_schedule``) starts the fires of a past period in order, each as the
execution of that fire (the same id a fire at the time would have had: a time that fired
already is counted, not started again), with ``started_by.backfill`` true. It honours the
overlap policy this way: ``allow_all`` starts them all at once; every other policy runs them
one after another, each started once the one before closed (a backfill never cancels or
skips its own runs; the schedule's live runs are not affected by it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from legato.core import codec
from legato.core.definitions import check_name
from legato.core.durations import epoch_ms, to_ms
from legato.core.partitions import partition_of
from legato.core.schedules import (
    FireKind,
    OverlapPolicy,
    ScheduleSpec,
    fire_times,
    fires_between,
    next_fire,
    policy,
)
from legato.engine.registry import WorkflowDef
from legato.engine.schedule_runner import fire_execution, workflow_of
from legato.errors import (
    ConfigurationError,
    ScheduleAlreadyExists,
    ScheduleNotFound,
    SerializationError,
)
from legato.ports.clock import Clock
from legato.ports.schedules import Fire, FireResult, Schedule, ScheduleFire
from legato.ports.store import Store

if TYPE_CHECKING:
    from legato.client.handle import Handle
    from legato.engine.engine import Engine
    from legato.engine.registry import Registry
    from legato.engine.stored_machines import StateMachines

T = TypeVar("T")
log = logging.getLogger("legato.schedules")
CAS_ATTEMPTS = 20  # a change that a scheduler's fires keep overtaking
BACKFILL_LIMIT = 100_000  # fires in one backfill at most
DEFAULT_CATCHUP = timedelta(minutes=1)


@dataclass(frozen=True)
class ScheduleDef:
    """A schedule as declared (``app.schedule``) or created (``create_schedule``).

    ``cron`` (croniter's syntax; 6 fields: the last is the seconds) or ``interval``;
    ``timezone``: the IANA zone the cron reads wall time in; ``start_at``/``end_at``: no fire
    before/after; ``jitter``: each fire is delayed by up to this much (the same delay for a
    fire every time); ``args``/``kwargs``: the workflow's arguments (a state machine's input is
    its one argument); ``version`` None: the latest registered (or stored) when it fires;
    ``overlap``: ``skip`` (default), ``buffer_one``, ``allow_all``, ``cancel_other``,
    ``terminate_other``; ``catchup_window``: after a downtime, the fires this recent still run,
    older ones are counted as missed."""

    name: str
    workflow: str
    cron: str | None = None
    interval: float | timedelta | None = None
    timezone: str = "UTC"
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    overlap: OverlapPolicy | str = OverlapPolicy.SKIP
    catchup_window: float | timedelta = DEFAULT_CATCHUP
    jitter: float | timedelta | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    version: str | None = None
    paused: bool = False
    note: str | None = None

    def spec(self) -> ScheduleSpec:
        return ScheduleSpec(
            cron=self.cron,
            interval_ms=None if self.interval is None else to_ms(self.interval),
            timezone=self.timezone,
            start_ms=None if self.start_at is None else epoch_ms(self.start_at),
            end_ms=None if self.end_at is None else epoch_ms(self.end_at),
            jitter_ms=0 if self.jitter is None else to_ms(self.jitter),
        )


@dataclass(frozen=True)
class BackfillReport:
    """What a backfill did: the fire times it covered; executions started now, found started
    already (by the fire at the time, or an earlier backfill), and how those closed."""

    fire_times: list[int]
    started: list[str]
    existing: list[str]
    statuses: dict[str, str]

    @property
    def total(self) -> int:
        return len(self.fire_times)


_CHANGEABLE = {
    "workflow", "cron", "interval", "timezone", "args", "kwargs", "overlap", "catchup_window",
    "jitter", "start_at", "end_at", "version", "note",
}  # fmt: skip


class ScheduleMethods:
    """``App``'s schedule calls (``App`` inherits them)."""

    if TYPE_CHECKING:
        clock: Clock
        registry: Registry
        machines: StateMachines
        _engine: Engine | None

        async def _retrying(self, what: str, op: Callable[[Store], Awaitable[T]]) -> T: ...
        def check_payload(self, text: str | None, what: str) -> None: ...
        def get_handle(self, execution_id: str) -> Handle[Any]: ...

    _declared: dict[str, ScheduleDef]

    # --- declared in code ---------------------------------------------------------------------
    def schedule(
        self,
        name: str,
        workflow: Callable[..., Any] | str,
        *,
        cron: str | None = None,
        interval: float | timedelta | None = None,
        timezone: str = "UTC",
        input: Any = None,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        overlap: OverlapPolicy | str = OverlapPolicy.SKIP,
        catchup_window: float | timedelta = DEFAULT_CATCHUP,
        jitter: float | timedelta | None = None,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        version: str | None = None,
        paused: bool = False,
    ) -> ScheduleDef:
        """Declare a schedule: created, or updated to this, when an orchestrating engine of
        this app starts (``paused`` only for a new one: pausing is an operator's). ``input``:
        the workflow's one argument (a state machine's input); or ``args``/``kwargs``."""
        if isinstance(workflow, str):
            wf_name = workflow
        else:
            wf_name = self.registry.workflow_for(workflow).name
        if input is not None:
            if args:
                raise ConfigurationError("schedule: give input or args, not both")
            args = (input,)
        definition = ScheduleDef(
            name, wf_name, cron, interval, timezone, tuple(args), dict(kwargs or {}), overlap,
            catchup_window, jitter, start_at, end_at, version, paused,
        )  # fmt: skip
        _check_def(definition)
        if not hasattr(self, "_declared"):
            self._declared = {}
        self._declared[name] = definition
        return definition

    @property
    def declared_schedules(self) -> list[ScheduleDef]:
        return list(getattr(self, "_declared", {}).values())

    async def apply_declared_schedules(self) -> list[Schedule]:
        """Create the schedules declared in code, or update them to what the code says (an
        engine does this when it starts)."""
        out = []
        for definition in self.declared_schedules:
            try:
                out.append(await self.create_schedule(definition, origin="code"))
            except ScheduleAlreadyExists:
                changes = {k: getattr(definition, k) for k in _CHANGEABLE if k != "note"}
                out.append(await self._update(definition.name, changes, origin="code"))
        return out

    # --- the calls ----------------------------------------------------------------------------
    async def create_schedule(self, definition: ScheduleDef, *, origin: str = "api") -> Schedule:
        """Store a new schedule (``ScheduleAlreadyExists`` if the name is taken). Its workflow
        must be registered here or stored as a state machine, and accept the arguments."""
        _check_def(definition)
        spec = definition.spec()
        wf = await self._schedule_workflow(definition.workflow, definition.version)
        input_json = self._schedule_input(wf, definition.args, definition.kwargs)
        now = self.clock.now_ms()
        schedule = Schedule(
            name=definition.name,
            workflow=wf.name,
            version=definition.version,
            spec=spec,
            input=input_json,
            overlap=policy(definition.overlap),
            catchup_window_ms=to_ms(definition.catchup_window),
            paused=definition.paused,
            note=definition.note,
            next_fire_ms=next_fire(spec, now),
            buffered_ms=None,
            running=(),
            missed=0,
            skipped=0,
            started=0,
            revision=1,
            origin=origin,
            partition=partition_of(definition.name),
            created_at=now,
            updated_at=now,
        )

        async def insert(store: Store) -> bool:
            return await store.insert_schedule(schedule)

        if not await self._retrying(f"creating schedule {definition.name!r}", insert):
            found = await self._find_schedule(definition.name)
            if found is None or not _same(found, schedule):
                raise ScheduleAlreadyExists(definition.name)
            return found  # this very call, retried after its commit was cut
        self._wake_scheduler()
        log.info("schedule %s created (%s)", schedule.name, origin)
        return schedule

    async def update_schedule(self, name: str, **changes: Any) -> Schedule:
        """Change any of ``workflow``, ``cron``, ``interval``, ``timezone``, ``args``,
        ``kwargs``, ``overlap``, ``catchup_window``, ``jitter``, ``start_at``, ``end_at``,
        ``version``, ``note``. A new timing counts its next fire from now."""
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise ConfigurationError(f"update_schedule: cannot change {', '.join(sorted(unknown))}")
        return await self._update(name, changes, origin=None)

    async def get_schedule(self, name: str) -> Schedule:
        found = await self._find_schedule(name)
        if found is None:
            raise ScheduleNotFound(name)
        return found

    async def list_schedules(self) -> list[Schedule]:
        async def read(store: Store) -> list[Schedule]:
            return await store.list_schedules()

        return await self._retrying("listing schedules", read)

    async def delete_schedule(self, name: str) -> None:
        """Delete it and the record of its fires (the executions it started stay)."""

        async def delete(store: Store) -> bool:
            return await store.delete_schedule(name)

        if not await self._retrying(f"deleting schedule {name!r}", delete):
            raise ScheduleNotFound(name)
        self._wake_scheduler()

    async def pause_schedule(self, name: str, note: str | None = None) -> Schedule:
        """No fire while paused (nor any catch-up of them when resumed)."""
        return await self._change(name, lambda s, now: replace(s, paused=True, note=note))

    async def resume_schedule(self, name: str) -> Schedule:
        """Fires again from now on (the fires due while paused are not run)."""

        def resume(s: Schedule, now: int) -> Schedule:
            if not s.paused:
                return s
            return replace(s, paused=False, note=None, next_fire_ms=next_fire(s.spec, now))

        return await self._change(name, resume)

    async def trigger_schedule(self, name: str) -> Handle[Any]:
        """Start a run now (whatever the overlap policy: an operator asked for it), recorded as
        a manual fire of this instant."""
        schedule = await self.get_schedule(name)
        wf = await self._schedule_workflow(schedule.workflow, schedule.version)
        now = self.clock.now_ms()
        new = fire_execution(wf, schedule, now, FireKind.MANUAL, now)
        fire = Fire(name, None, now, FireKind.MANUAL, new, None, now=now)

        async def record(store: Store) -> FireResult:
            return await store.fire_schedule(fire)

        done = await self._retrying(f"triggering schedule {name!r}", record)
        if done.outcome is None or done.execution_id is None:
            raise ScheduleNotFound(name)
        self._wake_scheduler()
        self._wake_engine()
        return self.get_handle(done.execution_id)

    async def next_fire_times(self, name: str, count: int = 5) -> list[int]:
        """Its next ``count`` fire times (epoch ms; none while paused)."""
        s = await self.get_schedule(name)
        if s.paused or s.next_fire_ms is None:
            return []
        return [s.next_fire_ms, *fire_times(s.spec, s.next_fire_ms, count - 1)][:count]

    async def schedule_runs(self, name: str, limit: int = 20) -> list[ScheduleFire]:
        """Its most recent fires, newest first, with the executions they started."""
        await self.get_schedule(name)

        async def read(store: Store) -> list[ScheduleFire]:
            return await store.schedule_fires(name, limit)

        return await self._retrying(f"reading the fires of schedule {name!r}", read)

    async def backfill_schedule(
        self,
        name: str,
        from_ms: int,
        to_ms: int,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> BackfillReport:
        """Start the runs of the fire times in ``[from_ms, to_ms]``, in order (the module
        docstring says how the overlap policy applies). ``on_progress(done, total)`` after
        each. Runs one after another need an engine serving the database to close them."""
        schedule = await self.get_schedule(name)
        times = fires_between(schedule.spec, from_ms, to_ms, BACKFILL_LIMIT)
        wf = await self._schedule_workflow(schedule.workflow, schedule.version)
        started: list[str] = []
        existing: list[str] = []
        handles: list[Handle[Any]] = []
        one_by_one = schedule.overlap != OverlapPolicy.ALLOW_ALL
        if on_progress is not None:
            on_progress(0, len(times))
        for i, fire_ms in enumerate(times):
            now = self.clock.now_ms()
            new = fire_execution(wf, schedule, fire_ms, FireKind.BACKFILL, now)
            fire = Fire(name, None, fire_ms, FireKind.BACKFILL, new, None, now=now)

            async def record(store: Store, fire: Fire = fire) -> FireResult:
                return await store.fire_schedule(fire)

            done = await self._retrying(f"backfilling schedule {name!r}", record)
            if done.outcome is None:
                raise ScheduleNotFound(name)
            (started if done.created else existing).append(new.id)
            self._wake_engine()
            handle = self.get_handle(new.id)
            handles.append(handle)
            if one_by_one:
                await handle._wait_settled()
                if on_progress is not None:
                    on_progress(i + 1, len(times))
        statuses: dict[str, str] = {}
        for n, handle in enumerate(handles):
            if not one_by_one:
                await handle._wait_settled()
                if on_progress is not None:
                    on_progress(n + 1, len(times))
            statuses[handle.id] = (await handle.status()).status.value
        log.info("schedule %s: backfilled %d fire(s), %d started", name, len(times), len(started))
        return BackfillReport(times, started, existing, statuses)

    # --- helpers ------------------------------------------------------------------------------
    async def _find_schedule(self, name: str) -> Schedule | None:
        async def read(store: Store) -> Schedule | None:
            return await store.get_schedule(name)

        return await self._retrying(f"reading schedule {name!r}", read)

    async def _schedule_workflow(self, name: str, version: str | None) -> WorkflowDef:
        async def find(store: Store) -> WorkflowDef:
            return await workflow_of(store, self.registry, self.machines, name, version)

        return await self._retrying(f"looking up workflow {name!r}", find)

    def _schedule_input(
        self, wf: WorkflowDef, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> str:
        what = f"input of workflow {wf.name!r}"
        input_json = wf.signature.encode_args(tuple(args), dict(kwargs), what)
        self.check_payload(input_json, what)
        # the workflow must accept it: refused here, not at every fire
        raw_args, raw_kwargs = codec.loads(input_json)
        problems = wf.arg_schema.check(raw_args, raw_kwargs)
        if problems:
            listed = "; ".join(f"{p.path}: {p.message}" for p in problems)
            raise SerializationError(f"{what} is not what it takes: {listed}")
        return input_json

    async def _update(self, name: str, changes: dict[str, Any], origin: str | None) -> Schedule:
        current = await self.get_schedule(name)
        workflow = changes.get("workflow", current.workflow)
        version = changes.get("version", current.version)
        wf = await self._schedule_workflow(workflow, version)
        input_json = current.input
        if "args" in changes or "kwargs" in changes or workflow != current.workflow:
            input_json = self._schedule_input(
                wf, changes.get("args", ()), changes.get("kwargs") or {}
            )
        timing = {"cron", "interval", "timezone", "start_at", "end_at", "jitter"}
        spec = current.spec
        if timing & set(changes):
            spec = _spec_with(current.spec, changes)
        overlap = policy(changes["overlap"]) if "overlap" in changes else current.overlap
        window = (
            to_ms(changes["catchup_window"]) if "catchup_window" in changes
            else current.catchup_window_ms
        )  # fmt: skip
        if window < 0:
            raise ConfigurationError("catchup_window: must be 0 or more")

        def change(s: Schedule, now: int) -> Schedule:
            moved = s.next_fire_ms
            if spec != s.spec:
                moved = next_fire(spec, now)
            return replace(
                s, workflow=wf.name, version=version, spec=spec, input=input_json,
                overlap=overlap, catchup_window_ms=window, next_fire_ms=moved,
                note=changes.get("note", s.note), origin=origin or s.origin,
            )  # fmt: skip

        return await self._change(name, change)

    async def _change(self, name: str, change: Callable[[Schedule, int], Schedule]) -> Schedule:
        """Read, change, write if nobody wrote meanwhile (its revision); else again."""
        for _ in range(CAS_ATTEMPTS):
            current = await self.get_schedule(name)
            now = self.clock.now_ms()
            changed = change(current, now)
            if changed == current:
                return current
            changed = replace(changed, revision=current.revision + 1, updated_at=now)

            async def write(
                store: Store, changed: Schedule = changed, expected: int = current.revision
            ) -> bool:
                return await store.update_schedule(changed, expected)

            if await self._retrying(f"changing schedule {name!r}", write):
                self._wake_scheduler()
                return changed
            found = await self._find_schedule(name)  # a retried write that did commit
            if found is not None and found.revision == changed.revision and _same(found, changed):
                self._wake_scheduler()
                return found
        raise ConfigurationError(f"schedule {name!r} kept changing; try again")

    def _wake_scheduler(self) -> None:
        runner = self._engine.schedules if self._engine is not None else None
        if runner is not None:
            runner.wake()

    def _wake_engine(self) -> None:
        if self._engine is not None:
            self._engine.wake_orchestrator()


def _check_def(d: ScheduleDef) -> None:
    problem = check_name(d.name)
    if problem is not None:
        raise ConfigurationError(problem.replace("definition name", "schedule name"))
    d.spec()  # raises ConfigurationError naming the field
    policy(d.overlap)
    if to_ms(d.catchup_window) < 0:
        raise ConfigurationError("catchup_window: must be 0 or more")


def _spec_with(spec: ScheduleSpec, changes: Mapping[str, Any]) -> ScheduleSpec:
    def moment(key: str, old: int | None) -> int | None:
        if key not in changes:
            return old
        value = changes[key]
        return None if value is None else epoch_ms(value)

    cron, interval_ms = spec.cron, spec.interval_ms
    if "cron" in changes:
        cron = changes["cron"]
        interval_ms = None if cron is not None else interval_ms
    if "interval" in changes:
        interval_ms = None if changes["interval"] is None else to_ms(changes["interval"])
        cron = None if interval_ms is not None else cron
    jitter = changes.get("jitter")
    jitter_ms = spec.jitter_ms
    if "jitter" in changes:
        jitter_ms = 0 if jitter is None else to_ms(jitter)
    return ScheduleSpec(
        cron=cron,
        interval_ms=interval_ms,
        timezone=changes.get("timezone", spec.timezone),
        start_ms=moment("start_at", spec.start_ms),
        end_ms=moment("end_at", spec.end_ms),
        jitter_ms=jitter_ms,
    )


def _same(a: Schedule, b: Schedule) -> bool:
    """The same definition (what a retried create or change wrote)."""
    keys = ("workflow", "version", "spec", "input", "overlap", "catchup_window_ms", "paused")
    return all(getattr(a, k) == getattr(b, k) for k in keys)
