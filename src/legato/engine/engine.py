"""The engine in one process: store, orchestrator, an optional local worker, and their loops.

``stop`` is graceful (docs/ARCHITECTURE.md, "Stopping"): the worker claims nothing more and its
running steps get ``grace_seconds`` to finish; their outcomes are recorded (decided and
committed by this process's orchestrator, which keeps running meanwhile, or written on the
task rows), then the partitions and every task lease still held are given back, so that other
processes take over at once instead of when the leases run out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import shlex
import socket
import sys
import time
import uuid
from collections.abc import Coroutine
from typing import Any

from legato.core.backoff import RECONNECT
from legato.core.durations import to_ms
from legato.core.owners import owner_id
from legato.core.partitions import fair_share
from legato.engine import metrics, polling
from legato.engine.clock import SkippingClock
from legato.engine.doorbell import Doorbell
from legato.engine.orchestrator import Orchestrator
from legato.engine.pause import wait_or_timeout
from legato.engine.recovery import Recovery
from legato.engine.registry import Registry
from legato.engine.schedule_runner import ScheduleRunner
from legato.engine.stored_machines import StateMachines
from legato.engine.worker import Worker
from legato.ports.clock import Clock
from legato.ports.executions import WorkflowType
from legato.ports.liveness import OwnerInfo
from legato.ports.store import Store

log = logging.getLogger("legato.engine")
STOP_TIMEOUT = 5.0
TIMER_SWEEP_S = 1.0  # how often the poll also looks for due timers ...
TIMER_LAG_MS = 1000  # ... whose in-memory callback is this overdue (lost: a restart, a takeover)
SETTLE_LIMIT_S = 10.0  # a worker claims after its orchestrator's first replays, or this at most


def make_owner_id(role: str) -> str:
    """Unique per process run (``legato.core.owners``): a dead owner never comes back."""
    return owner_id(role, socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])


def owner_info(owner: str, orchestrates: bool) -> OwnerInfo:
    """This process, as a refused second engine is told about it."""
    if os.path.basename(sys.argv[0]) == "__main__.py":  # python -m package ...
        argv = [os.path.basename(sys.orig_argv[0]), *sys.orig_argv[1:]]
    else:
        argv = [os.path.basename(sys.argv[0]), *sys.argv[1:]]
    command = shlex.join(argv)
    return OwnerInfo(
        owner, orchestrates, socket.gethostname(), os.getpid(), int(time.time() * 1000), command
    )


class Engine:
    """``orchestrate``: decide executions; ``work``: run steps in this process."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: Clock,
        *,
        orchestrate: bool = True,
        work: bool = True,
        cache_size: int = 10_000,
        lease_seconds: float = 30.0,
        concurrency: int = 100,
        queues: list[str] | None = None,
        poll_interval: float | None = None,
        grace_seconds: float = 30.0,
        machines: StateMachines | None = None,
    ) -> None:
        self.store = store
        store.observe_commits(metrics.commit)  # its batches and their latency, for /metrics
        self.registry = registry
        self.machines = machines or StateMachines(registry)
        self.clock = clock
        self.owner = make_owner_id("engine")
        self.info = owner_info(self.owner, orchestrates=orchestrate)
        self.recovery = Recovery(store, self.owner, partitions=orchestrate)
        lease_ms = to_ms(lease_seconds)
        if poll_interval is None:  # with notifications, polling is only a bounded fallback
            poll_interval = 1.0 if store.notifies else 0.05
        self.poll_interval = poll_interval
        self.worker: Worker | None = None
        self.orchestrator: Orchestrator | None = None
        if work:
            self.worker = Worker(
                store,
                registry,
                clock,
                owner=self.owner,
                concurrency=concurrency,
                lease_ms=lease_ms,
                queues=sorted(queues or registry.queues() or {"default"}),
                poll_interval=poll_interval * 2,
            )
        if orchestrate:
            self.orchestrator = Orchestrator(
                store,
                registry,
                clock,
                owner=self.owner,
                lease_ms=lease_ms,
                cache_size=cache_size,
                local=self.worker,
                machines=self.machines,
            )
            if self.worker is not None:
                self.worker.on_outcome = self.orchestrator.on_local_outcome
            self.orchestrator.on_inbox = self.wake_orchestrator
            self.orchestrator.on_tasks = self._tasks_at
        self.schedules: ScheduleRunner | None = None
        if self.orchestrator is not None:
            self.schedules = ScheduleRunner(
                store, registry, self.machines, clock, self.orchestrator, self.wake_orchestrator
            )
            self.orchestrator.on_closed = self.schedules.closed
        self._loops: list[asyncio.Task[None]] = []
        #: rung when tasks may have become claimable by workers in other processes (remote
        #: workers' long polls through the API wait on it)
        self.tasks_ready = Doorbell()
        self._orchestrator_wake = asyncio.Event()
        self._polls_asked = self._polls_done = 0  # wake_orchestrator's asks; those polled
        self._stopping = False
        self._partition_wake = asyncio.Event()
        self._replicas: int | None = None  # orchestrating engines alive at the last balance
        self._last_balance = time.monotonic()
        self.lease_ms = lease_ms
        self.grace_seconds = grace_seconds
        self.threads_left = 0  # sync steps still running after a stop (their threads run on)
        self._listener: asyncio.Task[None] | None = None
        if isinstance(clock, SkippingClock):
            clock.idle = self.idle
            clock.progress = self.progress

    def progress(self) -> int:
        """How many transitions this engine has committed: grows while it gets anywhere."""
        return 0 if self.orchestrator is None else self.orchestrator.transitions

    def idle(self) -> bool:
        if self.store.pending_writes():
            return False
        if self.worker is not None and self.worker.active:
            return False
        if self.schedules is not None and self.schedules.busy:
            return False
        if self._polls_asked != self._polls_done:  # what this process wrote is not read yet
            return False
        return self.orchestrator is None or self.orchestrator.idle()

    async def start(self) -> None:
        # The liveness lock comes first: a refused engine must not even migrate the database,
        # and no lease may be written by an owner that others could not prove alive.
        await self.store.hold(self.info)
        orch = self.orchestrator
        try:
            await self.store.open()
            # the app's state machines are stored before anything runs: a changed definition
            # under a stored version stops the start-up here, with what to do
            await self.machines.record(self.store, self.clock.now_ms())
            await self.machines.warn_of_code_clashes(self.store)
            await self._recover(starting=True)  # a dead predecessor's work: now, not at expiry
            # a lone replica holds every partition from the start
            first = await self._balance(orch, recover=False, take_up=False) if orch else []
            if orch is not None:
                await self.store.record_workflow_types(self._workflow_types(), self.clock.now_ms())
        except BaseException:
            await self.store.close()  # lets the locks go too
            raise
        if self.worker is not None:
            await self.worker.announce()  # what it serves is known before it claims anything
            log.info(
                "serving steps %s on queues %s",
                ", ".join(sorted(self.worker.steps)) or "none",
                ", ".join(sorted(self.worker.queues)),
                extra={"event": "worker.started", "owner": self.owner},
            )
        roles = [r for r, on in (("orchestrator", orch), ("worker", self.worker)) if on]
        log.info(
            "engine %s started: %s", self.owner, " and ".join(roles),
            extra={"event": "engine.started", "owner": self.owner, "roles": roles},
        )  # fmt: skip
        if orch is not None:
            self._spawn(self._partition_loop(orch))
            self._spawn(self._orchestrator_poll(orch))
            self._spawn(self._take_up_then_claim(orch, first))
            if self.schedules is not None:
                self._spawn(self.schedules.run())
        else:
            self._spawn(self._recovery_loop())
            if self.worker is not None:
                self._spawn(self.worker.poll_loop())
        if self.store.notifies:  # only waits: cancelled at once on stop
            self._listener = asyncio.get_running_loop().create_task(
                self.store.listen(self._notified)
            )
        if self.worker is not None:
            self._spawn(self.worker.renew_loop())

    def _workflow_types(self) -> list[WorkflowType]:
        """What this engine serves, for the API's ``GET /v1/workflows``."""
        return [
            WorkflowType(
                wf.name,
                wf.version,
                wf.kind,
                "{}" if wf.kind == "state_machine" else wf.arg_schema.json_schema_text(),
                wf.code_hash,
            )
            for wf in self.registry.workflows.values()
        ]

    async def _take_up_then_claim(self, orch: Orchestrator, first: list[int]) -> None:
        """Resume the executions of the first partitions, then let this process's worker claim
        tasks. A task a dead predecessor held is claimable at once; claimed before the replay,
        a step of an execution whose code no longer matches would run before the replay
        suspends the execution and parks its tasks."""
        if first:
            resumed = await polling.take_up(self.store, orch, first, self._is_registered)
            await orch.settled(resumed, timeout=SETTLE_LIMIT_S)
        if self.worker is not None and not self._stopping:
            await self.worker.poll_loop()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._loops.append(asyncio.get_running_loop().create_task(coro))

    async def _orchestrator_poll(self, orch: Orchestrator) -> None:
        """Picks up what other processes wrote: results of remote workers, client starts,
        timers whose in-memory callback was lost. Woken by notifications where the store has
        them; the interval is then only a fallback."""
        last_timer_sweep = 0.0
        failures = 0
        while not self._stopping:
            pause = RECONNECT.delay(failures, random.random()) if failures else self.poll_interval
            await wait_or_timeout(self._orchestrator_wake, pause)
            try:
                now = asyncio.get_running_loop().time()
                sweep = now - last_timer_sweep >= TIMER_SWEEP_S
                if sweep:
                    last_timer_sweep = now
                until = self.clock.now_ms() - TIMER_LAG_MS if sweep else None
                asked = self._polls_asked
                try:
                    await polling.poll(self.store, orch, until)
                finally:
                    self._polls_done = asked
                failures = 0
            except Exception as exc:
                failures += 1
                log.warning("polling the store failed (%s); retrying with backoff", exc)

    def wake_orchestrator(self) -> None:
        """Poll the store now: this process wrote something the orchestrator should see
        (an inbox message, a PENDING execution). Until that poll is done the engine is not
        idle, so a time-skipping clock does not jump past what the write will cause."""
        if self.orchestrator is not None:  # only an orchestrating engine polls
            self._polls_asked += 1
        self._orchestrator_wake.set()

    async def _is_registered(self, name: str, version: str) -> bool:
        """Registered, or stored as a state machine definition (read only for executions
        suspended because no engine knew their workflow)."""
        return await self.machines.lookup(self.store, name, version) is not None

    async def _recover(self, *, starting: bool = False) -> None:
        """Take over the partitions and task leases of owners proven dead (engine/recovery.py);
        a failure only leaves them to expire."""
        try:
            taken = await self.recovery.run(self.clock.now_ms(), self.lease_ms, starting=starting)
        except Exception as exc:
            log.warning("looking for dead owners failed (%s); their leases will expire", exc)
            return
        if any(t.tasks for t in taken):  # their steps are claimable now
            self.tasks_ready.rings()
            if self.worker is not None:
                self.worker.wake.set()

    async def _recovery_loop(self) -> None:
        """A worker alone takes over dead owners' task leases as often as it renews its own."""
        while not self._stopping:
            await wait_or_timeout(self._partition_wake, self.lease_ms / 3000)
            if not self._stopping:
                await self._recover()

    async def _balance(
        self, orch: Orchestrator, *, recover: bool = True, take_up: bool = True
    ) -> list[int]:
        """Lease this replica's fair share; returns the partitions new to it (taken up in
        the background unless ``take_up`` is False)."""
        if recover:
            await self._recover()
        now = self.clock.now_ms()
        live = await self.store.heartbeat_replica(self.owner, now, self.lease_ms, leaving=False)
        held = await self.store.balance_partitions(self.owner, now, self.lease_ms, fair_share(live))
        self._last_balance = time.monotonic()
        self._note_replicas(live)
        return self._set_partitions(orch, held, take_up)

    def _note_replicas(self, live: int) -> None:
        """Say when other orchestrating engines appear or go: the partitions are re-split."""
        before, self._replicas = self._replicas, live
        if live == (before or 1):
            return
        event = "replicas.joined" if live > (before or 1) else "replicas.left"
        log.info(
            "%d orchestrating engines share this database's partitions (%d before)",
            live, before or 1, extra={"event": event, "replicas": live},
        )  # fmt: skip

    def _set_partitions(
        self, orch: Orchestrator, held: list[int], take_up: bool = True
    ) -> list[int]:
        before = set(orch.owned)
        new = orch.set_partitions(held)
        if self.schedules is not None and set(held) != before:
            self.schedules.wake()  # its schedules are those of the partitions it holds
        if new and take_up:
            orch.spawn(polling.take_up(self.store, orch, new, self._is_registered))
        return new

    async def _partition_loop(self, orch: Orchestrator) -> None:
        """Renew partition leases and re-split them as replicas come and go. Past the lease
        without a renewal, every partition counts as lost: another replica may hold it now."""
        interval = self.lease_ms / 3000
        while not self._stopping:
            await wait_or_timeout(self._partition_wake, interval)
            if self._stopping:
                return
            try:
                await self._balance(orch)
            except Exception as exc:
                log.warning("renewing partition leases failed: %s", exc)
                if time.monotonic() - self._last_balance > self.lease_ms / 1000 and orch.owned:
                    log.warning("partition leases expired; deciding nothing until renewed")
                    self._set_partitions(orch, [])

    async def _leave(self) -> None:
        """A graceful stop gives its partitions back at once (no waiting for expiry)."""
        orch = self.orchestrator
        if orch is None or not orch.owned:
            return
        try:
            await self.store.release_partitions(self.owner, sorted(orch.owned))
            await self.store.heartbeat_replica(
                self.owner, self.clock.now_ms(), self.lease_ms, leaving=True
            )
        except Exception as exc:
            log.warning("could not give partitions back (%s); their leases will expire", exc)
        else:
            released = {"event": "partitions.released", "partitions": sorted(orch.owned)}
            log.info("stopping: gave back %d partition leases", len(orch.owned), extra=released)
        orch.owned.clear()

    def _tasks_at(self, at: int) -> None:
        if at <= self.clock.now_ms():
            self.tasks_ready.rings()
        else:  # a retry's backoff: claimable then
            self.clock.call_at(at, self.tasks_ready.rings)

    def _notified(self, what: str) -> None:
        if what == "tasks":
            self.tasks_ready.rings()
            if self.worker is not None:
                self.worker.wake.set()
        elif what in ("done", "pending", "inbox"):
            self._orchestrator_wake.set()

    async def stop(self) -> None:
        """Graceful (module docstring); bounded by the grace period and a few seconds more."""
        worker, orch = self.worker, self.orchestrator
        if self.schedules is not None:  # no new runs: first (its fire in hand is finished)
            self.schedules.stop()
        if worker is not None:
            if orch is not None:  # new steps go to any worker's claim, not to this one
                orch.stop_placing_locally()
            await worker.drain(self.grace_seconds)  # the orchestrator decides meanwhile
        # Ask the loops to end at their next turn (a claim in flight completes cleanly), then
        # cancel what is still waiting; bounded either way, so a stop never hangs.
        self._stopping = True
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait([self._listener], timeout=STOP_TIMEOUT)
            self._listener = None
        self._orchestrator_wake.set()
        self._partition_wake.set()
        if self.worker is not None:
            self.worker.stop_loops()
        if self._loops:
            _, pending = await asyncio.wait(self._loops, timeout=STOP_TIMEOUT / 5)
            for task in pending:
                task.cancel()
            if pending:
                _, stuck = await asyncio.wait(pending, timeout=STOP_TIMEOUT)
                for task in stuck:
                    log.warning("background loop %r did not stop within %ss", task, STOP_TIMEOUT)
        self._loops.clear()
        await self._leave()
        if orch is not None:
            await orch.stop()
        if worker is not None:
            await self._writes_settled()  # a task leased here may still be on its way in
            await worker.leave()
            self.threads_left = worker.attempts.threads_running()
        await self.store.close()
        log.info("stopped", extra={"event": "engine.stopped", "owner": self.owner})

    async def _writes_settled(self) -> None:
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.store.pending_writes() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
