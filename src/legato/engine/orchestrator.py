"""The orchestrator: turns step outcomes, due timers and messages into committed transitions.

Each execution has a mailbox; one transition per execution is in flight at a time, and every
input that arrived meanwhile goes into the next one (so a 1,000-way fan-in costs far fewer than
1,000 commits). A decision is ``admit`` → the instance's activation → ``decide``
(docs/ARCHITECTURE.md, "The hot path"); what it returns is committed as it is. Running
workflows stay in the sticky cache; one missing from it is loaded and replayed first.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from legato.core import decide, error_names
from legato.core.admit import MessageArrived, StepOutcome, TimerDue, admit
from legato.core.decide import Basis, Placement
from legato.core.events import ExecutionStarted
from legato.core.messages import InboxKind, InboxRow, reason_of
from legato.core.outcome import Outcome
from legato.core.partitions import partition_of
from legato.core.transition import ExecutionUpdate, NewExecution, Task, Transition
from legato.engine import loader, log_events, metrics, operations, tracing
from legato.engine.dispatch import Dispatcher
from legato.engine.instance import WorkflowInstance
from legato.engine.local_steps import LocalSteps
from legato.engine.registry import Registry, WorkflowDef
from legato.engine.sticky_cache import StickyCache
from legato.engine.stored_machines import StateMachines
from legato.ports.clock import Clock
from legato.ports.definitions import Definitions
from legato.ports.executions import (
    Executions,
    StaleTransition,
    StartResult,
    new_execution_row,
)
from legato.ports.inbox import Inbox
from legato.ports.task_queue import TaskQueue

log = logging.getLogger("legato.orchestrator")


class PreparedStart(NamedTuple):
    """A new execution decided here and recorded by someone else's transaction."""

    new: NewExecution
    instance: WorkflowInstance


class OrchestratorStore(Executions, TaskQueue, Inbox, Definitions, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class Wake:
    """Load the execution and commit whatever its code does next (client-started, resumed)."""


Mail = StepOutcome | TimerDue | MessageArrived | Wake


class Orchestrator:
    def __init__(
        self,
        store: OrchestratorStore,
        registry: Registry,
        clock: Clock,
        *,
        owner: str,
        lease_ms: int,
        cache_size: int,
        local: LocalSteps | None,
        machines: StateMachines | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.machines = machines or StateMachines(registry)  # stored definitions, as loaded
        self.clock = clock
        self.local = local
        none: frozenset[str] = frozenset()
        self.placement = Placement(
            owner, lease_ms, local.queues if local else none, local.steps if local else none
        )
        self.cache = StickyCache(cache_size)
        self.dispatch = Dispatcher(clock, local, self.deliver, self._still_waits)
        self.on_inbox: Callable[[], None] | None = None  # a commit may have left inbox rows
        # a commit made tasks any worker may claim (remote workers' long polls wait for it);
        # called with the time they become claimable
        self.on_tasks: Callable[[int], None] | None = None
        # an execution decided here closed or was terminated (the scheduler's waiting fires)
        self.on_closed: Callable[[str], None] | None = None
        self.owned: set[int] = set()  # partitions this replica holds the lease on
        # When a task of its partitions may pass its start deadline: 0 (now) makes the next
        # sweep read the store (at start, after a takeover); None: no task has one
        self.start_deadline: int | None = 0
        self.replays = 0
        self.transitions = 0
        self._mail: dict[str, list[Mail]] = {}
        self._busy: set[str] = set()
        self._ready: list[str] = []
        self._replayed: dict[str, loader.Loaded] = {}  # decided next with what replay found
        self._delivering: set[str] = set()  # done task ids read from the store, on their way
        self._inbox_seen: set[int] = set()  # inbox rows read from the store, on their way
        self._waiters: dict[str, list[asyncio.Future[ExecutionUpdate]]] = {}
        self._settling: dict[str, list[asyncio.Future[None]]] = {}  # see ``settled``
        self._starting: set[str] = set()  # PENDING at their first decision (the metrics' start)
        self._jobs: set[asyncio.Task[object]] = set()
        self._stopped = False

    # --- inputs -------------------------------------------------------------------------------
    def idle(self) -> bool:
        return not self._busy and not self._mail

    def owns(self, execution_id: str) -> bool:
        """Whether this replica holds the lease on the execution's partition."""
        return partition_of(execution_id) in self.owned

    def deliver(self, execution_id: str, item: Mail) -> None:
        if not self.owns(execution_id):
            self._hand_over([item])
            return
        self._mail.setdefault(execution_id, []).append(item)
        if execution_id not in self._busy:
            self._busy.add(execution_id)
            self._make_ready(execution_id)

    def on_local_outcome(self, task: Task, outcome: Outcome) -> None:
        """The local worker's report (``legato.engine.local_steps.OnOutcome``)."""
        draw = 1.0 if outcome.ok else random.random()
        self.deliver(task.execution_id, StepOutcome(task, outcome, draw, True))

    def deliver_done(self, task: Task) -> None:
        """A result a worker in another process recorded on its task."""
        if task.outcome is not None and task.id not in self._delivering:  # parse once
            self._deliver_from_store(task, Outcome.from_json(task.outcome))

    def deliver_overdue(self, task: Task) -> None:
        """A task no worker started by its schedule-to-start deadline: its step fails with
        ``States.Timeout``, not retried (another attempt would wait for the same workers)."""
        message = (
            f"step {task.name!r} was not started by a worker within its schedule-to-start timeout"
        )
        self._deliver_from_store(
            task, Outcome.failure(error_names.TIMEOUT, message, non_retryable=True)
        )

    def _deliver_from_store(self, task: Task, outcome: Outcome) -> None:
        """An outcome for a task read from the store, once until it is decided (polls repeat)."""
        if task.id in self._delivering:
            return
        self._delivering.add(task.id)
        draw = 1.0 if outcome.ok else random.random()
        self.deliver(task.execution_id, StepOutcome(task, outcome, draw, False))

    def deliver_message(self, row: InboxRow) -> None:
        if row.id in self._inbox_seen:
            return
        self._inbox_seen.add(row.id)
        if row.kind == InboxKind.TERMINATE:  # a parent closed: no code runs, no replay needed
            self._spawn(self._terminate(row))
            return
        self.deliver(row.execution_id, MessageArrived(row))

    async def _terminate(self, row: InboxRow) -> None:
        eid = row.execution_id
        try:
            why = reason_of(row.payload)
            update = await operations.terminate(self.store, eid, why, self.clock.now_ms())
            self.closed_elsewhere(eid, update)  # ``operations`` logged it
        except Exception as exc:  # closed meanwhile, or the store: the poll tries again
            extra = log_events.fields("execution.terminate_failed", eid)
            log.info("terminating %s did not happen: %s", eid, exc, extra=extra)
        finally:
            self._inbox_seen.discard(row.id)

    def closed_elsewhere(self, execution_id: str, update: ExecutionUpdate | None) -> None:
        """It was closed without a decision of ours (terminated): forget its instance, and
        answer whoever waits for it to close."""
        self.cache.evict(execution_id)
        if update is not None:
            self._resolve_waiters(execution_id, update)

    def is_live(self, execution_id: str) -> bool:
        """Decided here and not closed: its close (or suspension) will resolve ``wait_closed``
        futures."""
        return execution_id in self.cache or execution_id in self._busy

    def wait_closed(self, execution_id: str) -> asyncio.Future[ExecutionUpdate]:
        """Resolved with the update once this orchestrator closes the execution, or suspends
        it (it then waits for an operator: a handle awaiting its result stops waiting)."""
        fut: asyncio.Future[ExecutionUpdate] = asyncio.get_running_loop().create_future()
        waiting = [f for f in self._waiters.get(execution_id, []) if not f.done()]
        waiting.append(fut)
        self._waiters[execution_id] = waiting
        return fut

    async def settled(self, execution_ids: Iterable[str], timeout: float | None = None) -> None:
        """Returns once none of these executions has a decision waiting or in flight (or
        after ``timeout`` seconds): those resumed on taking up partitions are replayed by
        then, and suspended, their tasks parked, if their code no longer matches."""
        loop = asyncio.get_running_loop()
        waits = []
        for eid in execution_ids:
            if eid in self._busy and not self._stopped:
                fut: asyncio.Future[None] = loop.create_future()
                self._settling.setdefault(eid, []).append(fut)
                waits.append(fut)
        if waits:
            await asyncio.wait(waits, timeout=timeout)

    def _unbusy(self, execution_id: str) -> None:
        self._busy.discard(execution_id)
        if self._settling:
            for fut in self._settling.pop(execution_id, ()):
                if not fut.done():
                    fut.set_result(None)

    async def start(
        self,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        timeout_ms: int | None = None,
        labels: str | None = None,
        started_by: str | None = None,
    ) -> StartResult | None:
        """Record a new execution together with its first decision: one commit. None if
        another replica decides this execution's partition (the caller records it for them)."""
        if not self.owns(execution_id):
            return None
        prepared = self._decide_start(wf, execution_id, input_json, timeout_ms, labels, started_by)
        try:
            result = await self.store.start_execution(prepared.new)
        except BaseException:  # not recorded, or not known to be: the caller may try again
            prepared.instance.close()
            raise
        if result.created:
            self._after_commit(prepared.instance, prepared.new.transition)
            return StartResult(True, row=new_execution_row(prepared.new))
        prepared.instance.close()
        return result

    def _decide_start(
        self,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        timeout_ms: int | None,
        labels: str | None,
        started_by: str | None,
    ) -> PreparedStart:
        """A new execution and its first decision, not recorded yet; raises what the
        workflow's first activation raises (its input does not decode)."""
        now = self.clock.now_ms()
        inst = WorkflowInstance(wf, self.registry, execution_id)
        traced = tracing.current_traceparent()  # the caller's span, if any: its trace
        started = ExecutionStarted(
            now, wf.name, input_json, wf.version, timeout_ms=timeout_ms, traceparent=traced
        )
        try:
            activation = inst.start(input_json, now, timeout_ms, traced)
        except BaseException:
            inst.close()
            raise
        deadline = None if timeout_ms is None else now + timeout_ms
        basis = Basis(
            execution_id, 0, now, sticky=False, arm_timeout=deadline, traceparent=inst.traceparent
        )
        new = decide.start(started, basis, activation, self.placement, labels, started_by)
        return PreparedStart(new, inst)

    def prepare_start(
        self,
        wf: WorkflowDef,
        execution_id: str,
        input_json: str,
        timeout_ms: int | None,
        started_by: str | None,
    ) -> PreparedStart | None:
        """``start``'s new execution with its first decision, for the caller to record in a
        transaction of its own (an event ingest's); then ``start_recorded``. None if another
        replica decides this execution's partition, or this one is stopping."""
        if self._stopped or not self.owns(execution_id):
            return None
        try:
            return self._decide_start(wf, execution_id, input_json, timeout_ms, None, started_by)
        except Exception:  # recorded PENDING instead: the engine reports it the usual way
            return None

    def start_recorded(self, prepared: PreparedStart, created: bool) -> None:
        """After the transaction of a ``prepare_start``: its instance goes on (cached, its
        local steps run), or is dropped (not written: a duplicate, or the transaction failed)."""
        if created and not self._stopped:
            self._after_commit(prepared.instance, prepared.new.transition)
        else:
            prepared.instance.close()

    # --- decisions ----------------------------------------------------------------------------
    def _make_ready(self, execution_id: str) -> None:
        if not self._ready:
            asyncio.get_running_loop().call_soon(self._run_ready)
        self._ready.append(execution_id)

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
                self._unbusy(execution_id)
                continue
            if execution_id not in self.cache:  # replay it first, then decide
                self._mail[execution_id] = items + self._mail.get(execution_id, [])
                self._spawn(self._load(execution_id))
                continue
            try:
                tr, inst = self._decide(execution_id, items)
            except Exception:
                extra = log_events.fields("execution.decision_failed", execution_id)
                log.exception(
                    "deciding %s failed; its inputs will be redelivered", execution_id, extra=extra
                )
                self._drop(execution_id, items)
                self._next(execution_id)
                continue
            if tr is None:  # nothing new: keep the instance warm
                self.cache.put(inst, self._busy)
                self._settle(items)
                self._next(execution_id)
                continue
            fut = self.store.submit(tr)
            fut.add_done_callback(lambda f, t=tr, i=inst, m=items: self._committed(t, i, m, f))  # type: ignore[misc]

    def _decide(
        self, execution_id: str, items: list[Mail]
    ) -> tuple[Transition | None, WorkflowInstance]:
        now = self.clock.now_ms()
        inst = self.cache.use(execution_id)
        replayed = self._replayed.pop(execution_id, None)
        inputs = [m for m in items if not isinstance(m, Wake)]
        admitted = admit(inst.waits, inputs, now)
        # positional, in field order: sticky, resumed, reports_to_parent, has_children
        basis = Basis(
            execution_id,
            inst.seq,
            now,
            replayed is None,
            replayed is not None and replayed.resumed,
            inst.reports_to_parent,
            inst.has_children,
            traceparent=inst.traceparent,
        )
        if admitted.timed_out:  # no code runs: it closes TIMED_OUT
            return decide.time_out(basis, admitted, inst.timeout_ms or 0), inst
        if replayed is not None and replayed.pending:
            if inst.seq == 1:  # only ExecutionStarted: a client's start, not a redrive
                self._starting.add(execution_id)
            basis = basis._replace(
                pending=True, arm_timeout=replayed.arm_timeout, rebuild=replayed.rebuild
            )
        activation = inst.activate(admitted.feed, now, admitted.consumed_inbox)
        if replayed is not None and replayed.missing:  # what ran after the last commit
            activation = activation._replace(commands=replayed.missing + activation.commands)
        return decide.decide(basis, admitted, activation, self.placement), inst

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        job = asyncio.get_running_loop().create_task(coro)
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _load(self, execution_id: str) -> None:
        """Bring an execution that is not in memory back from its history; its inputs wait in
        the mailbox (the execution stays busy) and are decided once it is back."""
        wake = any(isinstance(i, Wake) for i in self._mail.get(execution_id, []))
        try:
            loaded = await loader.load(
                self.store, self.registry, execution_id, self.clock.now_ms(), wake, self.machines
            )
        except Exception:
            extra = log_events.fields("execution.replay_failed", execution_id)
            log.exception(
                "replaying %s failed; its inputs will be redelivered", execution_id, extra=extra
            )
            loaded = None
        if self._stopped:
            return
        if isinstance(loaded, loader.Loaded):
            self.replays += 1
            self._replayed[execution_id] = loaded
            self.cache.put(loaded.instance, self._busy)
            self._make_ready(execution_id)
            return
        self._drop(execution_id, self._mail.pop(execution_id, []))
        if loaded is None:
            self._next(execution_id)
            return
        fut = self.store.submit(loaded)  # suspend it
        fut.add_done_callback(lambda f: self._committed(loaded, None, [], f))

    def _committed(
        self,
        tr: Transition,
        inst: WorkflowInstance | None,
        items: list[Mail],
        fut: asyncio.Future[None],
    ) -> None:
        eid = tr.execution_id
        if fut.cancelled() or self._stopped:
            return
        error = fut.exception()
        if error is None:
            if inst is not None:
                self._after_commit(inst, tr)
            else:  # suspended (``loader`` said so)
                self.cache.evict(eid)
                self._resolve_waiters(tr.execution_id, tr.update)
            self._settle(items)
        elif isinstance(error, StaleTransition):
            extra = log_events.fields("execution.stale", eid)
            log.info("execution %s moved on elsewhere; reloading", eid, extra=extra)
            self._drop(eid, items)
        else:
            log.error(
                "committing a transition of %s failed: %s; inputs will be redelivered", eid, error,
                extra=log_events.fields("execution.commit_failed", eid),
            )  # fmt: skip
            self._drop(eid, items)
        self._next(eid)

    def _next(self, execution_id: str) -> None:
        """After a decision: go on with inputs that arrived meanwhile, or become idle."""
        if execution_id in self._mail:
            self._make_ready(execution_id)
        elif self._settling:
            self._unbusy(execution_id)
        else:  # the common case, inline
            self._busy.discard(execution_id)

    def _drop(self, execution_id: str, items: list[Mail]) -> None:
        """Forget the instance and let lost inputs come back: leases expire, done tasks and
        due timers are polled again."""
        self.cache.evict(execution_id)
        self._starting.discard(execution_id)
        self._settle(items)

    def _settle(self, items: list[Mail]) -> None:
        """These inputs are decided (or dropped): a poll may see them again, and a local
        worker stops renewing their leases."""
        for item in items:
            if isinstance(item, MessageArrived):
                self._inbox_seen.discard(item.row.id)
            elif isinstance(item, StepOutcome):
                task = item.task
                self._delivering.discard(task.id)
                if item.local and self.local is not None:
                    self.local.release(task.id)

    def _after_commit(self, inst: WorkflowInstance, tr: Transition) -> None:
        self.transitions += 1
        eid = inst.execution_id
        wf = inst.workflow
        if tr.expected_seq == 0 or (self._starting and eid in self._starting):
            self._starting.discard(eid)
            metrics.execution_started(wf.name, wf.version)
        if tr.task_retries:
            metrics.retries_in(wf.name, tr)
        if log_events.EXECUTIONS.isEnabledFor(log_events.INFO):
            wf = inst.workflow
            log_events.committed(tr, wf.name, wf.version, inst.traceparent)
        if self.local is not None:  # its steps are pre-leased to it: one check per task
            for task in tr.task_inserts:
                if task.lease_owner is None:
                    wf = inst.workflow
                    local = self.local
                    log_events.unserved(
                        tr, wf.name, wf.version, inst.traceparent, local.steps, local.queues
                    )
                    break
        if tr.start_deadline is not None:
            self.note_start_deadline(tr.start_deadline)
        if tr.cancel_tasks and self.local is not None:  # our worker stops them now
            self.local.cancel(tr.cancel_tasks)
        inst.seen_up_to(tr.expected_seq + len(tr.events))
        for child in tr.child_starts:  # decided here if its partition is ours: start it now
            if self.owns(child.new.id):
                self.deliver(child.new.id, Wake())
        if tr.wakes_inbox and self.on_inbox is not None:
            self.on_inbox()
        if tr.closes:
            metrics.execution_closed(wf.name, wf.version, tr.update.status)
            if tracing.tracer() is not None:
                self._closed_span(inst, tr)
            self.cache.evict(eid)
            self.dispatch.closed(eid)
            if tr.purge and self._delivering:  # its remaining task rows are gone: forget them
                prefix = f"{eid}:"
                self._delivering = {t for t in self._delivering if not t.startswith(prefix)}
            self._resolve_waiters(tr.execution_id, tr.update)
            return
        self.cache.put(inst, self._busy)
        self.dispatch.committed(tr)
        if self.on_tasks is not None and (tr.task_inserts or tr.task_retries or tr.unpark):
            self._claimable(tr)

    def _closed_span(self, inst: WorkflowInstance, tr: Transition) -> None:
        u = tr.update
        error = f"{u.error_type}: {u.error_message}" if u.error_type else u.reason
        wf = inst.workflow
        redriven = inst.redriven_at is not None and inst.redrive_count > 0
        started = inst.redriven_at if inst.redriven_at is not None else inst.started_at
        tracing.execution_closed(
            inst.execution_id, wf.name, wf.version, inst.started_in, started,
            u.closed_at or tr.now, u.status, error, inst.redrive_count if redriven else 0,
        )  # fmt: skip

    def _claimable(self, tr: Transition) -> None:
        """Tell ``on_tasks`` when the tasks of a commit that no local worker holds can be
        claimed (now, or at a retry's time)."""
        on_tasks = self.on_tasks
        assert on_tasks is not None
        if tr.unpark:
            on_tasks(tr.now)
        at = [t.available_at for t in tr.task_inserts if t.lease_owner is None]
        at += [r.available_at for r in tr.task_retries if r.lease_owner is None]
        if at:
            on_tasks(min(at))

    def _resolve_waiters(self, execution_id: str, update: ExecutionUpdate) -> None:
        if self.on_closed is not None:
            self.on_closed(execution_id)
        for fut in self._waiters.pop(execution_id, []):
            if not fut.done():
                fut.set_result(update)

    def _still_waits(self, execution_id: str, step_id: int) -> bool:
        inst = self.cache.get(execution_id)
        return inst is not None and inst.waits.waits_for(step_id)

    # --- partitions ---------------------------------------------------------------------------
    def set_partitions(self, held: list[int]) -> list[int]:
        """Take up newly leased partitions and forget lost ones (only the lease holder keeps
        an execution in memory); returns the new ones, for the caller to take up."""
        new, lost = set(held) - self.owned, self.owned - set(held)
        self.owned = set(held)
        if lost:
            released = {"event": "partitions.released", "partitions": sorted(lost)}
            log.info("partitions lost or given away: %s", sorted(lost), extra=released)
            self.cache.evict_where(lambda eid: partition_of(eid) in lost)
        if new:
            taken = {"event": "partitions.taken", "partitions": sorted(new)}
            log.info("partitions taken: %s", sorted(new), extra=taken)
            self.start_deadline = 0  # theirs are not known here: read them at the next sweep
        return sorted(new)

    def note_start_deadline(self, at: int) -> None:
        self.start_deadline = at if self.start_deadline is None else min(self.start_deadline, at)

    def _hand_over(self, items: list[Mail]) -> None:
        """Inputs for an execution decided elsewhere: a local step outcome is recorded on its
        task for the partition's holder to pick up; anything else that holder finds itself."""
        for item in items:
            if isinstance(item, MessageArrived):
                self._inbox_seen.discard(item.row.id)
            if isinstance(item, StepOutcome) and item.local:
                self._spawn(self._record_outcome(item))

    async def _record_outcome(self, result: StepOutcome) -> None:
        task = result.task
        try:
            await self.store.finish_task(
                task.id, task.attempt, self.placement.owner, result.outcome.to_json()
            )
        except Exception:
            extra = log_events.task_fields("step.outcome_not_recorded", task)
            log.exception("could not record the outcome of %s; it will run again", task.id,
                          extra=extra)  # fmt: skip
        finally:
            if self.local is not None:
                self.local.release(task.id)

    def stop_placing_locally(self) -> None:
        """This process is stopping: from now on new tasks wait for any worker's claim instead
        of being leased to its worker (which runs nothing more)."""
        none: frozenset[str] = frozenset()
        self.placement = self.placement._replace(local_queues=none, local_steps=none)

    def spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run a background job that ``stop`` cancels (taking up partitions)."""
        self._spawn(coro)

    async def stop(self) -> None:
        self._stopped = True
        self._ready.clear()
        for job in list(self._jobs):
            job.cancel()
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)
        for waiting in self._settling.values():  # nothing more will settle
            for fut in waiting:
                if not fut.done():
                    fut.set_result(None)
        self._settling.clear()
        self.cache.clear()
