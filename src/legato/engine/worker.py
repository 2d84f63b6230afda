"""Runs steps: claims tasks (or takes the ones its own process's orchestrator leased to it),
runs each attempt (``legato.engine.attempts``), reports its outcome, and holds the leases
meanwhile.

A worker in its orchestrator's process reports through ``on_outcome``
(``legato.engine.local_steps``); a worker on its own records outcomes on the task rows.

Rolling deploys: a worker claims only tasks of the steps it has registered, and records in the
store what it serves (``legato.ports.workers``), so a step no live worker has waits for one.

A graceful stop (``drain``, then ``leave``; docs/ARCHITECTURE.md, "Stopping") claims nothing
more, lets the running attempts finish within a grace period and reports them, cancels what is
still running after it without reporting it, and gives back every lease still held, so other
workers take that work at once rather than when the leases run out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterable
from typing import Protocol

from legato.core.backoff import RECONNECT
from legato.core.outcome import Outcome
from legato.core.transition import Task
from legato.engine import log_events, metrics
from legato.engine.attempts import Attempts
from legato.engine.local_steps import OnOutcome
from legato.engine.pause import wait_or_timeout
from legato.engine.registry import Registry
from legato.ports.clock import Clock
from legato.ports.task_queue import TaskQueue
from legato.ports.workers import Workers

log = logging.getLogger("legato.worker")
SETTLE_TIMEOUT = 5.0  # seconds a stop waits for reported outcomes to commit, and for cancels
FULL_WAIT = 1.0  # seconds a full worker waits for a slot at most (a freed one wakes it)


class WorkerStore(TaskQueue, Workers, Protocol):
    pass


class Worker:
    def __init__(
        self,
        tasks: WorkerStore,
        registry: Registry,
        clock: Clock,
        *,
        owner: str,
        concurrency: int,
        lease_ms: int,
        queues: list[str],
        on_outcome: OnOutcome | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        self.tasks = tasks
        self.registry = registry
        self.clock = clock
        self.owner = owner
        self.lease_ms = lease_ms
        self._queues = frozenset(queues)
        self._claim_queues = sorted(self._queues)
        self._steps = frozenset(registry.steps)
        self._claim_steps = sorted(self._steps)
        self.on_outcome = on_outcome
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self.attempts = Attempts(tasks, clock, lease_ms=lease_ms, threads=concurrency)
        self._sem = asyncio.Semaphore(concurrency)
        self._leased: dict[str, int] = {}  # task id -> attempt, renewed while held
        self.active = 0  # tasks submitted and not yet reported
        self._running: dict[asyncio.Task[None], Task] = {}
        self._reported: set[str] = set()  # outcomes handed to on_outcome, not yet committed
        self._all_committed = asyncio.Event()
        self._abandoned: set[str] = set()  # cancelled past the grace period: never reported
        self.wake = asyncio.Event()  # set when another process made tasks claimable
        self.wake_renew = asyncio.Event()
        self.draining = False  # stopping: claims and starts nothing more
        self.stopping = False  # the loops end at their next turn

    @property
    def queues(self) -> frozenset[str]:
        return self._queues

    @property
    def steps(self) -> frozenset[str]:
        return self._steps

    def stop_loops(self) -> None:
        self.stopping = True
        self.wake.set()
        self.wake_renew.set()

    # --- intake (legato.engine.local_steps.LocalSteps) ----------------------------------------
    def run(self, task: Task) -> None:
        if self.draining:
            return  # leased to this process: ``leave`` gives the lease back
        self._leased[task.id] = task.attempt
        self.active += 1
        t = asyncio.get_running_loop().create_task(self._run(task))
        self._running[t] = task
        t.add_done_callback(self._running.pop)  # the task is the key: forgotten when done

    def hold(self, task: Task) -> None:
        self._leased[task.id] = task.attempt

    def cancel(self, task_ids: Iterable[str]) -> None:
        """Their execution was cancelled, or closed (their task rows are gone): each running
        attempt is told through its step context, and an async one is cancelled
        (``asyncio.CancelledError`` in the step)."""
        wanted = set(task_ids)
        if not wanted:
            return
        for t, task in list(self._running.items()):
            ctx = self.attempts.contexts.get(task.id)
            if task.id not in wanted or ctx is None or ctx.cancelled:
                continue
            ctx.cancelled = True
            log.info("asking step %s of execution %s to stop", task.name, task.execution_id,
                     extra=log_events.task_fields("step.cancelling", task))  # fmt: skip
            step = self.registry.steps.get(task.name)
            if step is not None and step.is_async:
                t.cancel()

    def release(self, task_id: str) -> None:
        self._leased.pop(task_id, None)
        if self._reported:
            self._reported.discard(task_id)
            if not self._reported and self.draining:
                self._all_committed.set()

    async def _run(self, task: Task) -> None:
        try:
            async with self._sem:
                if self.draining:  # it waited for a free slot, and now this worker stops
                    return
                step = self.registry.steps.get(task.name)
                if step is None:
                    await self._give_back(task)
                    return
                waited = self.clock.now_ms() - task.available_at
                debug = log.isEnabledFor(logging.DEBUG)
                if debug:
                    _starts(task)
                began = time.perf_counter()
                outcome = await self.attempts.execute(step, task)
                metrics.step_attempt(task.name, outcome.ok, time.perf_counter() - began, waited)
                if debug:
                    _finished(task, outcome)
            if task.id in self._abandoned:
                return  # past the grace period: its lease is given back, no outcome
            if self.on_outcome is not None:
                self._reported.add(task.id)
                self.on_outcome(task, outcome)
            else:
                try:
                    await self.tasks.finish_task(
                        task.id, task.attempt, self.owner, outcome.to_json()
                    )
                finally:
                    self.release(task.id)
        finally:
            if self.active == self.concurrency:  # a full worker has a free slot: claim now,
                self.wake.set()  # not at its next poll (one not full claims on its own)
            self.active -= 1

    async def _give_back(self, task: Task) -> None:
        """A task for a step this worker does not have (it claims only its own, but a task
        can reach it otherwise): no outcome, so the execution does not fail; the lease goes
        back at once for a worker that has the step."""
        log.warning(
            "step %r (task %s) is not registered in this worker: giving it back for a worker "
            "that serves it",
            task.name,
            task.id,
            extra=log_events.task_fields("step.not_registered", task),
        )
        try:
            await self.tasks.release_tasks(self.owner, [task.id])
        except Exception as exc:
            log.warning("could not give task %s back (%s); its lease will expire", task.id, exc)
        finally:
            self.release(task.id)

    # --- background loops ---------------------------------------------------------------------
    async def poll_loop(self) -> None:
        """Claims tasks of its steps nobody holds (or whose holder's lease ran out), within
        capacity, until the worker drains."""
        failures = 0
        while not self.draining and not self.stopping:
            free = self.concurrency - self.active
            got = 0
            if free > 0 and self._queues and self._steps:
                try:
                    rows = await self.tasks.claim_tasks(
                        self.owner,
                        self._claim_queues,
                        self._claim_steps,
                        self.clock.now_ms(),
                        self.lease_ms,
                        min(free, 100),
                    )
                    failures = 0
                except Exception as exc:
                    failures += 1
                    pause = RECONNECT.delay(failures, random.random())
                    log.warning("claiming tasks failed (%s); retrying in %.1fs", exc, pause)
                    await wait_or_timeout(self.wake_renew, pause)  # woken only to stop
                    continue
                for row in rows:
                    self.run(row)  # a claim that returns while draining: given back by leave
                got = len(rows)
            if got and got == min(free, 100):
                await asyncio.sleep(0)  # more may be waiting: claim again at once
            elif free <= 0:  # full: a freed slot wakes it (a long-polling store polls at 0)
                await wait_or_timeout(self.wake, max(self.poll_interval, FULL_WAIT))
            else:
                await wait_or_timeout(self.wake, self.poll_interval)

    async def renew_loop(self) -> None:
        """Renews the leases held (also while draining: running steps still hold theirs) and
        says the worker is alive and what it serves."""
        interval = self.lease_ms / 3000
        while not self.stopping:
            await wait_or_timeout(self.wake_renew, interval)
            if self.stopping:
                return
            if self._leased:
                try:
                    stop = await self.tasks.renew_leases(
                        self.owner, list(self._leased), self.clock.now_ms() + self.lease_ms
                    )
                except Exception:
                    log.exception("renewing leases failed; retrying")
                else:
                    self.cancel(stop)  # cancelled, or their execution closed
            if not self.draining:
                try:
                    await self.announce()
                except Exception as exc:
                    log.warning("recording this worker's heartbeat failed (%s); retrying", exc)

    async def announce(self, *, leaving: bool = False) -> None:
        """Record that this worker is alive and which steps it serves on which queues (or,
        ``leaving``, that it serves nothing any more)."""
        await self.tasks.heartbeat_worker(
            self.owner,
            self._claim_queues,
            self._claim_steps,
            self.clock.now_ms(),
            self.lease_ms,
            leaving,
        )

    # --- a graceful stop ----------------------------------------------------------------------
    async def drain(self, grace: float) -> None:
        """Claim and start nothing more; wait up to ``grace`` seconds for the running attempts
        and report their outcomes; cancel those still running then, unreported (a sync step's
        thread cannot be stopped: it runs on, its result dropped). Outcomes reported to this
        process's orchestrator are waited for until committed."""
        self.draining = True
        self.wake.set()
        try:
            await self.announce(leaving=True)  # nobody should count on this worker now
        except Exception as exc:
            log.warning("could not record that this worker stops (%s)", exc)
        running = dict(self._running)
        if running:
            n = len(running)
            log.info("stopping: waiting up to %gs for %d running %s", grace, n, _steps(n),
                     extra={"event": "worker.stopping", "running": n})  # fmt: skip
            done, late = await asyncio.wait(set(running), timeout=max(grace, 0.0))
            if done:
                log.info("stopping: %d %s finished", len(done), _steps(len(done)))
            if late:
                await self._abandon({t: running[t] for t in late}, grace)
        else:
            log.info("stopping: no steps running",
                     extra={"event": "worker.stopping", "running": 0})  # fmt: skip
        if self._reported:
            self._all_committed.clear()  # set by release() once the last one is committed
            n = len(self._reported)
            log.info("stopping: waiting for %d step %s to be committed", n, _outcomes(n))
            await wait_or_timeout(self._all_committed, SETTLE_TIMEOUT)
            if self._reported:
                log.warning(
                    "%d step %s not committed in time; those steps will run again",
                    len(self._reported),
                    _outcomes(len(self._reported)),
                )

    async def _abandon(self, late: dict[asyncio.Task[None], Task], grace: float) -> None:
        log.warning(
            "stopping: %d %s still running after the %gs grace period (%s): cancelled, "
            "outcomes not recorded, leases given back",
            len(late),
            _steps(len(late)),
            grace,
            ", ".join(sorted(f"{task.name} {task.id}" for task in late.values())),
        )
        for t, task in late.items():
            self._abandoned.add(task.id)
            t.cancel()
        _, stuck = await asyncio.wait(set(late), timeout=SETTLE_TIMEOUT)
        if stuck:  # on 3.11 a cancellation can be lost inside a driver's waits
            log.warning("%d cancelled %s did not stop", len(stuck), _steps(len(stuck)))
        threads = self.attempts.threads_running()
        if threads:
            log.warning(
                "%d sync step %s cannot be stopped: left running, results ignored",
                threads,
                "thread" if threads == 1 else "threads",
            )

    async def leave(self) -> None:
        """The end of a graceful stop (after ``drain``, with the orchestrator in this process
        stopped): give back every task lease this worker still holds, so that any worker
        claims those tasks at once."""
        self.draining = True
        self.stop_loops()
        self.attempts.shutdown()
        try:
            released = await self.tasks.release_tasks(self.owner, None)
            await self.announce(leaving=True)  # again: a heartbeat may have crossed drain's
        except Exception as exc:
            log.warning("could not give task leases back (%s); they will expire", exc)
        else:
            log.info("released %d task %s", released, "lease" if released == 1 else "leases",
                     extra={"event": "tasks.released", "tasks": released})  # fmt: skip
        self._leased.clear()


def _steps(n: int) -> str:
    return "step" if n == 1 else "steps"


def _outcomes(n: int) -> str:
    return "outcome" if n == 1 else "outcomes"


def _starts(task: Task) -> None:
    extra = log_events.task_fields("step.started", task)
    log.debug("step %s of %s: attempt %d starts", task.name, task.execution_id, task.attempt,
              extra=extra)  # fmt: skip


def _finished(task: Task, outcome: Outcome) -> None:
    how = "succeeded" if outcome.ok else f"failed ({outcome.error_type})"
    extra = log_events.task_fields("step.finished", task)
    extra["error"] = None if outcome.ok else outcome.error_type
    log.debug("step %s of %s: attempt %d %s", task.name, task.execution_id, task.attempt, how,
              extra=extra)  # fmt: skip
