"""The orchestrator: turns step outcomes and timer firings into transitions.

Each execution has a mailbox; one transition per execution is in flight at a time, and every
input that arrived meanwhile goes into the next one (so a 1,000-way fan-in costs far fewer than
1,000 commits). Running workflows stay in an LRU of live instances (sticky executions,
DESIGN.md §5); only an execution missing from it is replayed from its history.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from legato.core.commands import (
    Command,
)
from legato.core.events import Event, EventType, Status, SuspendKind
from legato.core.partitions import partition_of
from legato.engine import inbox
from legato.engine.instance import WorkflowInstance
from legato.engine.outcome import Outcome
from legato.engine.registry import Registry, WorkflowDef
from legato.engine.transitions import Gathered, TransitionBuilder
from legato.engine.worker import Worker
from legato.errors import NonDeterminismError
from legato.ports.clock import Clock
from legato.ports.store import (
    ExecutionRow,
    ExecutionUpdate,
    InboxRow,
    NewExecution,
    StaleTransition,
    StartResult,
    Store,
    TaskRow,
    Transition,
)

log = logging.getLogger("legato.orchestrator")


@dataclass(slots=True)
class StepOutcome:
    task: TaskRow
    outcome: Outcome
    local: bool


@dataclass(slots=True)
class TimerFired:
    timer_id: int


@dataclass(slots=True)
class Wake:
    """Load the execution and commit whatever its code does next (client-started, resumed)."""


@dataclass(slots=True)
class InboxItem:
    row: InboxRow


Input = StepOutcome | TimerFired | Wake | InboxItem


@dataclass(slots=True)
class Plan:
    """A decided transition and what to do once it is committed."""

    transition: Transition
    instance: WorkflowInstance | None  # None: the execution is being suspended
    retried: list[TaskRow]


class Orchestrator:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: Clock,
        *,
        owner: str,
        lease_ms: int,
        cache_size: int,
        local_worker: Worker | None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.owner = owner
        self.lease_ms = lease_ms
        self.cache_size = cache_size
        self.worker = local_worker
        local_queues = frozenset(local_worker.queues) if local_worker else frozenset()
        self.builder = TransitionBuilder(registry, owner, lease_ms, local_queues)
        self.cache: OrderedDict[str, WorkflowInstance] = OrderedDict()
        self._mail: dict[str, list[Input]] = {}
        self._busy: set[str] = set()
        self._delivering: set[str] = set()  # done task ids already on their way
        self._inbox_seen: set[int] = set()  # inbox rows already on their way
        self.on_inbox: Callable[[], None] | None = None  # a commit may have left inbox rows
        self._waiters: dict[str, list[asyncio.Future[ExecutionUpdate]]] = {}
        self._ready: list[str] = []
        self._replayed: dict[str, tuple[list[Command], list[Event]]] = {}
        self._jobs: set[asyncio.Task[None]] = set()
        self._stopped = False
        self.replays = 0
        self.transitions = 0
        self.owned: set[int] = set()  # partitions this replica holds the lease on

    # --- public -------------------------------------------------------------------------------
    def idle(self) -> bool:
        return not self._busy and not self._mail

    def owns(self, execution_id: str) -> bool:
        """Whether this replica holds the lease on the execution's partition."""
        return partition_of(execution_id) in self.owned

    def deliver(self, execution_id: str, item: Input) -> None:
        if not self.owns(execution_id):
            self._hand_over([item])
            return
        self._mail.setdefault(execution_id, []).append(item)
        if execution_id not in self._busy:
            self._busy.add(execution_id)
            self._make_ready(execution_id)

    def _make_ready(self, execution_id: str) -> None:
        if not self._ready:
            asyncio.get_running_loop().call_soon(self._run_ready)
        self._ready.append(execution_id)

    def on_local_outcome(self, task: TaskRow, outcome: Outcome) -> None:
        self.deliver(task.execution_id, StepOutcome(task, outcome, local=True))

    def is_live(self, execution_id: str) -> bool:
        """Decided here and not closed: its close will resolve ``wait_closed`` futures."""
        return execution_id in self.cache or execution_id in self._busy

    def wait_closed(self, execution_id: str) -> asyncio.Future[ExecutionUpdate]:
        """Resolved with the closing update once this orchestrator closes the execution."""
        fut: asyncio.Future[ExecutionUpdate] = asyncio.get_running_loop().create_future()
        waiting = [f for f in self._waiters.get(execution_id, []) if not f.done()]
        waiting.append(fut)
        self._waiters[execution_id] = waiting
        return fut

    async def start(
        self, wf: WorkflowDef, execution_id: str, input_json: str
    ) -> StartResult | None:
        """Record a new execution together with its first decision: one commit. None if
        another replica decides this execution's partition (the caller records it for them)."""
        if not self.owns(execution_id):
            return None
        now = self.clock.now_ms()
        inst = WorkflowInstance(wf, self.registry, execution_id)
        started = Event(
            EventType.EXECUTION_STARTED,
            ts=now,
            name=wf.name,
            payload=input_json,
            meta={"version": wf.version},
        )
        commands = inst.start(input_json, now)
        tr = self.builder.build(inst, now, [started], commands, Status.RUNNING)
        result = await self.store.start_execution(
            NewExecution(
                execution_id, wf.name, wf.version, input_json, now, tr, partition_of(execution_id)
            )
        )
        if result.created:
            self._after_commit(inst, tr)
        else:
            inst.close()
        return result

    # --- one execution's inputs ---------------------------------------------------------------
    def _run_ready(self) -> None:
        """Decide every execution with new inputs; commits go to the store together, and each
        execution's next inputs wait for its own commit (one transition in flight per execution)."""
        ready, self._ready = self._ready, []
        if self._stopped:
            return
        for execution_id in ready:
            items = self._mail.pop(execution_id, None)
            if not items or not self.owns(execution_id):
                self._hand_over(items or [])
                self._busy.discard(execution_id)
                continue
            if execution_id not in self.cache:  # replay it first, then decide
                self._mail[execution_id] = items + self._mail.get(execution_id, [])
                self._spawn(self._replay(execution_id))
                continue
            try:
                plan = self._decide(execution_id, items)
            except Exception:
                log.exception("deciding %s failed; its inputs will be redelivered", execution_id)
                plan = None
                self._drop(execution_id, items)
            if plan is None:
                self._next(execution_id)
                continue
            fut = self.store.submit(plan.transition)
            fut.add_done_callback(lambda f, p=plan, i=items: self._committed(p, i, f))  # type: ignore[misc]

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        job = asyncio.get_running_loop().create_task(coro)
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _replay(self, execution_id: str) -> None:
        """Bring an execution that is not in memory back from its history; its inputs wait in
        the mailbox (the execution stays busy) and are decided once it is back."""
        wake = any(isinstance(i, Wake) for i in self._mail.get(execution_id, []))
        try:
            loaded = await self._load(execution_id, self.clock.now_ms(), wake)
        except Exception:
            log.exception("replaying %s failed; its inputs will be redelivered", execution_id)
            loaded = None
        if self._stopped:
            return
        if isinstance(loaded, tuple):
            inst, extra, events = loaded
            self._replayed[execution_id] = (extra, events)
            self._cache_put(inst)
            self._make_ready(execution_id)
            return
        self._drop(execution_id, self._mail.pop(execution_id, []))
        if loaded is None:
            self._next(execution_id)
            return
        plan = Plan(loaded, None, [])  # suspend it
        fut = self.store.submit(loaded)
        fut.add_done_callback(lambda f: self._committed(plan, [], f))

    def _committed(self, plan: Plan, items: list[Input], fut: asyncio.Future[Any]) -> None:
        eid = plan.transition.execution_id
        if fut.cancelled() or self._stopped:
            return
        error = fut.exception()
        if error is None:
            if plan.instance is not None:
                self._after_commit(plan.instance, plan.transition, plan.retried)
            else:
                self._evict(eid)
            self._release_local(items)
        elif isinstance(error, StaleTransition):
            log.info("execution %s moved on elsewhere; reloading", eid)
            self._drop(eid, items)
        else:
            log.error(
                "committing a transition of %s failed: %s; inputs will be redelivered", eid, error
            )
            self._drop(eid, items)
        self._next(eid)

    def _next(self, execution_id: str) -> None:
        """After a decision: go on with inputs that arrived meanwhile, or become idle."""
        if execution_id in self._mail:
            self._make_ready(execution_id)
        else:
            self._busy.discard(execution_id)

    def _drop(self, execution_id: str, items: list[Input]) -> None:
        """Forget the instance and let lost inputs come back: leases expire, done tasks and
        due timers are polled again."""
        self._evict(execution_id)
        for item in items:
            if isinstance(item, InboxItem):
                self._inbox_seen.discard(item.row.id)
            if isinstance(item, StepOutcome):
                self._delivering.discard(item.task.id)
                if item.local and self.worker is not None:
                    self.worker.release(item.task.id)

    def _decide(self, execution_id: str, items: list[Input]) -> Plan | None:
        now = self.clock.now_ms()
        inst = self.cache[execution_id]
        self.cache.move_to_end(execution_id)
        replayed = self._replayed.pop(execution_id, None)
        sticky = replayed is None  # was in memory, so its status is RUNNING already
        extra, events = replayed or ([], [])
        got = Gathered(events=events)
        for item in items:
            if isinstance(item, StepOutcome):
                self.builder.step_outcome(inst, item.task, item.outcome, now, got)
            elif isinstance(item, TimerFired) and item.timer_id in inst.waiting:
                got.inputs.append(Event(EventType.TIMER_FIRED, ts=now, ref=item.timer_id))
                got.timer_deletes.append(item.timer_id)
            elif isinstance(item, TimerFired):
                inbox.timer_fired(inst, item.timer_id, now, got)
            elif isinstance(item, InboxItem):
                inbox.consume(inst, item.row, now, got)
        commands, accepted = inst.activate(got.inputs, now)
        tr = self.builder.build(inst, now, got.events + accepted, extra + commands, Status.RUNNING)
        tr.task_deletes += got.task_deletes
        tr.task_retries += [r for r, _ in got.retries]
        tr.timer_deletes += got.timer_deletes
        inbox.apply(tr, got, inst.take_cancelled_timers())
        if sticky:
            tr.update.progress_only = tr.update.closed_at is None
        else:
            tr.unpark = any(e.type == EventType.EXECUTION_RESUMED for e in events)
        if not tr.events and not tr.inbox_deletes:  # nothing new: keep the instance warm
            self._cache_put(inst)
            self._release_local(items)
            return None
        return Plan(tr, inst, [row for _, row in got.retries])

    def _release_local(self, items: list[Input]) -> None:
        for item in items:
            if isinstance(item, InboxItem):
                self._inbox_seen.discard(item.row.id)
            elif isinstance(item, StepOutcome):
                self._delivering.discard(item.task.id)
                if item.local and self.worker is not None:
                    self.worker.release(item.task.id)

    # --- after a commit -----------------------------------------------------------------------
    def _after_commit(
        self, inst: WorkflowInstance, tr: Transition, retried: list[TaskRow] | None = None
    ) -> None:
        self.transitions += 1
        inst.seq = tr.expected_seq + len(tr.events)
        eid = inst.execution_id
        for child in tr.child_starts:  # decided here if its partition is ours: start it now
            if self.owns(child.new.id):
                self.deliver(child.new.id, Wake())
        if (tr.child_starts or tr.parent_notified) and self.on_inbox is not None:
            self.on_inbox()
        if tr.update.closed_at is not None:
            self._evict(eid)
            self._delivering.difference_update(  # purged rows will not be seen again
                f"{eid}:{ref}" for ref in inst.waiting
            )
            for fut in self._waiters.pop(eid, []):
                if not fut.done():
                    fut.set_result(tr.update)
            return
        self._cache_put(inst)
        worker = self.worker
        if worker is not None:
            for t in tr.task_inserts:
                if t.lease_owner == self.owner:
                    worker.submit(
                        TaskRow(
                            t.id,
                            eid,
                            t.step_id,
                            t.name,
                            t.queue,
                            t.args,
                            t.available_at,
                            t.attempt,
                            t.lease_owner,
                            None,
                            None,
                        )
                    )
            for row in retried or []:
                if row.lease_owner == self.owner:
                    self._schedule_retry(worker, row)
        for timer_id, fire_at in tr.timer_inserts:
            self.schedule_timer(eid, timer_id, fire_at)

    def _cache_put(self, inst: WorkflowInstance) -> None:
        self.cache[inst.execution_id] = inst
        self.cache.move_to_end(inst.execution_id)
        excess = len(self.cache) - self.cache_size
        if excess > 0:  # least recently used first; never one with a transition in flight
            victims = []
            for eid in self.cache:
                if eid not in self._busy:
                    victims.append(eid)
                    if len(victims) == excess:
                        break
            for eid in victims:
                self.cache.pop(eid).close()

    def _schedule_retry(self, worker: Worker, row: TaskRow) -> None:
        worker.leased[row.id] = row.attempt  # keep the pre-lease renewed until it runs

        def due() -> None:
            inst = self.cache.get(row.execution_id)
            if inst is not None and row.step_id in inst.waiting:
                worker.submit(row)
            else:  # closed (its task is gone) or evicted: a poll claims it once the lease ends
                worker.release(row.id)

        self.clock.call_at(row.available_at, due)

    def schedule_timer(self, eid: str, timer_id: int, fire_at: int) -> None:
        self.clock.call_at(fire_at, lambda: self.deliver(eid, TimerFired(timer_id)))

    def _evict(self, execution_id: str) -> None:
        inst = self.cache.pop(execution_id, None)
        if inst is not None:
            inst.close()

    # --- replay -------------------------------------------------------------------------------
    async def _load(
        self, execution_id: str, now: int, wake: bool
    ) -> tuple[WorkflowInstance, list[Command], list[Event]] | Transition | None:
        """Replay an execution that is not in memory. Returns the instance, or the transition
        that suspends it, or None when there is nothing to decide."""
        row = await self.store.load_execution(execution_id)
        if row is None:
            return None
        resuming = row.status == Status.SUSPENDED and row.suspend_kind == SuspendKind.UNREGISTERED
        if row.status not in (Status.RUNNING, Status.PENDING) and not (resuming and wake):
            return None
        wf = self.registry.lookup_workflow(row.workflow, row.version)
        if wf is None:
            if row.status != Status.SUSPENDED:
                return self._suspension(
                    row,
                    now,
                    SuspendKind.UNREGISTERED,
                    f"workflow {row.workflow!r} version {row.version!r} is not "
                    "registered in the running app",
                )
            return None
        inst = WorkflowInstance(wf, self.registry, execution_id)
        history = await self.store.load_history(execution_id)
        try:
            extra = inst.replay(history)
        except NonDeterminismError as exc:
            inst.close()
            return self._suspension(row, now, SuspendKind.NON_DETERMINISM, str(exc))
        self.replays += 1
        inst.seq = row.seq
        events = []
        if row.status == Status.SUSPENDED:
            events.append(Event(EventType.EXECUTION_RESUMED, ts=now))
        return inst, extra, events

    def _suspension(
        self, row: ExecutionRow, now: int, kind: SuspendKind, reason: str
    ) -> Transition:
        log.warning("suspending execution %s: %s", row.id, reason)
        event = Event(
            EventType.EXECUTION_SUSPENDED, ts=now, meta={"kind": kind.value, "reason": reason}
        )
        update = ExecutionUpdate(
            Status.SUSPENDED, row.current_step, reason=reason, suspend_kind=kind
        )
        return Transition(row.id, row.seq, now, [event], update, park=True)

    # --- partitions -----------------------------------------------------------------------------
    def set_partitions(self, held: list[int], is_registered: Callable[[str, str], bool]) -> None:
        """Take up newly leased partitions (their timers, their executions) and forget lost
        ones: only the lease holder keeps an execution in memory."""
        new, lost = set(held) - self.owned, self.owned - set(held)
        self.owned = set(held)
        if lost:
            log.info("partitions lost or given away: %s", sorted(lost))
            for eid in [e for e in self.cache if partition_of(e) in lost]:
                self._evict(eid)
        if new:
            log.info("partitions taken: %s", sorted(new))
            self._spawn(self._take_up(sorted(new), is_registered))

    async def _take_up(self, parts: list[int], is_registered: Callable[[str, str], bool]) -> None:
        try:
            for eid, timer_id, fire_at in await self.store.due_timers(2**62, 10**9, parts):
                self.schedule_timer(eid, timer_id, fire_at)
            await self.resume_all(is_registered, parts)
        except Exception:
            log.exception("taking up partitions %s failed; the polls will catch up", parts)

    def _hand_over(self, items: list[Input]) -> None:
        """Inputs for an execution decided elsewhere: a local step outcome is recorded on its
        task for the partition's holder to pick up; anything else that holder finds itself."""
        for item in items:
            if isinstance(item, InboxItem):
                self._inbox_seen.discard(item.row.id)
            if isinstance(item, StepOutcome) and item.local:
                self._spawn(self._record_outcome(item))

    async def _record_outcome(self, item: StepOutcome) -> None:
        task = item.task
        try:
            await self.store.finish_task(task.id, task.attempt, self.owner, item.outcome.to_json())
        except Exception:
            log.exception("could not record the outcome of %s; it will run again", task.id)
        finally:
            if self.worker is not None:
                self.worker.release(task.id)

    # --- polling (work written by other processes) -------------------------------------------
    async def poll_done_tasks(self) -> None:
        for task in await self.store.done_tasks(500, sorted(self.owned)):
            if task.id in self._delivering or task.outcome is None:
                continue
            self._delivering.add(task.id)
            self.deliver(
                task.execution_id, StepOutcome(task, Outcome.from_json(task.outcome), False)
            )

    async def poll_due_timers(self, until: int) -> None:
        for eid, timer_id, _ in await self.store.due_timers(until, 500, sorted(self.owned)):
            self.deliver(eid, TimerFired(timer_id))

    async def poll_inbox(self) -> None:
        for row in await self.store.inbox(500, sorted(self.owned)):
            if row.id in self._inbox_seen:
                continue
            self._inbox_seen.add(row.id)
            self.deliver(row.execution_id, InboxItem(row))

    async def poll_pending(self) -> None:
        for row in await self.store.pending_executions(500, sorted(self.owned)):
            self.deliver(row.id, Wake())

    async def resume_all(
        self, is_registered: Callable[[str, str], bool], partitions: list[int]
    ) -> None:
        """At start-up: pick up client-started executions, resume suspended ones whose workflow
        is now registered, and replay running ones (up to the cache size) so that code which no
        longer matches its histories is reported now, not when the next event arrives."""
        warm = 0
        for row in await self.store.executions_to_resume(partitions):
            if row.status == Status.RUNNING:
                warm += 1
                if warm > self.cache_size:
                    continue
            elif row.status == Status.SUSPENDED and not is_registered(row.workflow, row.version):
                continue
            self.deliver(row.id, Wake())

    async def stop(self) -> None:
        self._stopped = True
        self._ready.clear()
        for job in list(self._jobs):
            job.cancel()
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)
        for inst in self.cache.values():
            inst.close()
        self.cache.clear()
