"""Runs steps: claims tasks (or takes the ones its own process's orchestrator leased to it),
enforces start-to-close and heartbeat timeouts, and reports each attempt's outcome.

Timeouts are measured on the engine's ``Clock``, so a time-skipping test clock moves them
too. A worker in its orchestrator's process reports through ``on_outcome``
(``legato.engine.local_steps``); a worker on its own records outcomes on the task rows.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import random
import traceback
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from legato.core import codec, error_names
from legato.core.backoff import RECONNECT
from legato.core.durations import to_ms
from legato.core.outcome import Outcome
from legato.core.transition import Task
from legato.engine.local_steps import OnOutcome
from legato.engine.pause import wait_or_timeout
from legato.engine.registry import Registry, StepDef
from legato.engine.step_context import StepContext, bind
from legato.errors import Cancelled, NonRetryableError, SerializationError
from legato.ports.clock import Clock
from legato.ports.task_queue import TaskQueue

log = logging.getLogger("legato.worker")


@dataclass(frozen=True, slots=True)
class _Limits:
    """One attempt's timeouts: the step's own, or the call's (a Task state's TimeoutSeconds)."""

    timeout: float | None
    heartbeat_timeout: float | None


class _Timeout(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class Worker:
    def __init__(
        self,
        tasks: TaskQueue,
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
        self.on_outcome = on_outcome
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self._sem = asyncio.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="legato-step")
        self._leased: dict[str, int] = {}  # task id -> attempt, renewed while held
        # attempts running now: their context, and the asyncio task of an async step's (which
        # a cancellation cancels; a sync step's thread can only be told)
        self._running: dict[str, tuple[StepContext, asyncio.Task[None] | None]] = {}
        self.active = 0  # tasks submitted and not yet reported
        self._tasks: set[asyncio.Task[None]] = set()
        self._heartbeat_writes: dict[str, Any] = {}
        self._attempt_tasks: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False
        self.wake = asyncio.Event()  # set when another process made tasks claimable
        self.wake_renew = asyncio.Event()
        self.stopping = False  # the loops end at their next turn

    @property
    def queues(self) -> frozenset[str]:
        return self._queues

    def stop_loops(self) -> None:
        self.stopping = True
        self.wake.set()
        self.wake_renew.set()

    # --- intake (legato.engine.local_steps.LocalSteps) ----------------------------------------
    def run(self, task: Task) -> None:
        if self._stopped:
            return  # its lease runs out and the next process claims it
        self._leased[task.id] = task.attempt
        self.active += 1
        t = asyncio.get_running_loop().create_task(self._run(task))
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        self._attempt_tasks[task.id] = t

    def hold(self, task: Task) -> None:
        self._leased[task.id] = task.attempt

    def release(self, task_id: str) -> None:
        self._leased.pop(task_id, None)

    def cancel(self, task_ids: Iterable[str]) -> None:
        """Their execution was cancelled (or closed): each running attempt is told through its
        step context; an async one is cancelled too (``asyncio.CancelledError``)."""
        for task_id in task_ids:
            running = self._running.get(task_id)
            if running is None or running[0].cancelled:
                continue
            ctx, attempt = running
            ctx.cancelled = True
            log.info("asking step %s of execution %s to stop", ctx.step, ctx.execution_id)
            if attempt is not None:
                attempt.cancel()

    async def _run(self, task: Task) -> None:
        try:
            async with self._sem:
                outcome = await self.execute(task)
            if self.on_outcome is not None:
                self.on_outcome(task, outcome)
            else:
                try:
                    await self.tasks.finish_task(
                        task.id, task.attempt, self.owner, outcome.to_json()
                    )
                finally:
                    self.release(task.id)
        finally:
            self._attempt_tasks.pop(task.id, None)
            if self.active == self.concurrency:  # a full worker has a free slot: claim now,
                self.wake.set()  # not at its next poll (one not full claims on its own)
            self.active -= 1

    # --- running one attempt ------------------------------------------------------------------
    async def execute(self, task: Task) -> Outcome:
        step = self.registry.steps.get(task.name)
        if step is None:
            return Outcome(
                ok=False,
                error_type=error_names.RUNTIME,
                message=f"step {task.name!r} is not registered in this worker",
            )
        ctx = StepContext(
            execution_id=task.execution_id,
            step_id=task.step_id,
            step=task.name,
            attempt=task.attempt,
            idempotency_key=task.id,
            heartbeat_details=codec.loads(task.heartbeat_details),
        )
        ctx._sink, ctx._task = self, task
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        bind(ctx)
        attempt = self._attempt_tasks.get(task.id) if step.is_async else None
        self._running[task.id] = (ctx, attempt)
        try:
            outcome = await self._attempt(step, task, ctx)
        finally:
            self._running.pop(task.id, None)
        if ctx.latest_details is not None:  # the next attempt starts from these
            try:
                details = codec.dumps(ctx.latest_details, "heartbeat details")
                outcome = outcome._replace(heartbeat_details=details)
            except SerializationError:
                pass
        return outcome

    async def _attempt(self, step: StepDef, task: Task, ctx: StepContext) -> Outcome:
        try:
            args, kwargs, options = step.signature.decode_call(task.args)
        except Exception as exc:
            return _failure(exc, non_retryable=True)
        if "compensates" in options:
            ctx.compensates = options["compensates"]
            ctx.compensated_result = codec.loads(options.get("compensated_result"))
        limits = _Limits(
            options.get("timeout", step.timeout),
            options.get("heartbeat_timeout", step.heartbeat_timeout),
        )
        try:
            result = await self._call(step, args, kwargs, ctx, limits)
        except _Timeout as exc:
            return Outcome.failure(exc.error_type, str(exc))
        except Exception as exc:
            return _failure(exc, non_retryable=isinstance(exc, NonRetryableError))
        except (Cancelled, asyncio.CancelledError):
            if not ctx.cancelled or self._stopped:  # the worker stops: not the step's outcome
                raise
            message = f"step {step.name!r} stopped: its execution was cancelled"
            return Outcome.failure(error_names.CANCELLED, message)._replace(non_retryable=True)
        try:
            return Outcome(True, codec.dumps(result, f"result of step {step.name!r}"))
        except SerializationError as exc:
            return _failure(exc, non_retryable=True)

    async def _call(
        self,
        step: StepDef,
        args: list[Any],
        kwargs: dict[str, Any],
        ctx: StepContext,
        limits: _Limits,
    ) -> Any:
        unlimited = limits.timeout is None and limits.heartbeat_timeout is None
        if step.is_async:
            if unlimited:
                return await step.fn(*args, **kwargs)
            fut: asyncio.Future[Any] = asyncio.ensure_future(step.fn(*args, **kwargs))
        else:
            call = functools.partial(contextvars.copy_context().run, step.fn, *args, **kwargs)
            fut = asyncio.get_running_loop().run_in_executor(self._pool, call)
            if unlimited:
                return await fut
        return await self._watch(fut, step, ctx, limits)

    async def _watch(
        self, fut: asyncio.Future[Any], step: StepDef, ctx: StepContext, limits: _Limits
    ) -> Any:
        """Wait for the attempt, or fail it at its start-to-close deadline or once it sends no
        heartbeat for its heartbeat timeout (each heartbeat moves that deadline on)."""
        timeout, hb_timeout = limits.timeout, limits.heartbeat_timeout
        started = self.clock.now_ms()
        ctx._last_heartbeat_ms = max(ctx._last_heartbeat_ms, started)  # one may have come
        deadline = started + to_ms(timeout) if timeout is not None else None

        def hb_deadline() -> int | None:  # read afresh: a heartbeat may arrive while we wait
            last = ctx._last_heartbeat_ms
            return last + to_ms(hb_timeout) if hb_timeout is not None else None

        woken = asyncio.Event()
        fut.add_done_callback(lambda _: woken.set())
        while True:
            due = min(d for d in (deadline, hb_deadline()) if d is not None)
            alarm = self.clock.call_at(due, woken.set)
            try:
                await woken.wait()
            except asyncio.CancelledError:  # a cancellation, or the worker stopping
                fut.cancel()
                raise
            finally:
                alarm.cancel()
            woken.clear()
            if fut.done():
                return fut.result()
            now = self.clock.now_ms()
            if deadline is not None and now >= deadline:
                fut.cancel()
                raise _Timeout(
                    error_names.TIMEOUT,
                    f"step {step.name!r} ran past its start-to-close timeout of {timeout}s",
                )
            hb_due = hb_deadline()
            if hb_due is not None and now >= hb_due:
                fut.cancel()
                raise _Timeout(
                    error_names.HEARTBEAT_TIMEOUT,
                    f"step {step.name!r} sent no heartbeat for {hb_timeout}s",
                )

    def heartbeat(self, ctx: StepContext, details: Any) -> None:
        """``legato.engine.step_context.HeartbeatSink``: in the step's thread for a sync step."""
        ctx._last_heartbeat_ms = self.clock.now_ms()
        if details is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._queue_heartbeat, ctx._task, details)

    def _queue_heartbeat(self, task: Task, details: Any) -> None:
        writing = task.id in self._heartbeat_writes
        self._heartbeat_writes[task.id] = details
        if not writing:
            asyncio.get_running_loop().create_task(self._write_heartbeats(task))

    async def _write_heartbeats(self, task: Task) -> None:
        try:
            while task.id in self._heartbeat_writes:
                details = self._heartbeat_writes[task.id]
                text = codec.dumps(details, f"heartbeat details of step {task.name!r}")
                await self.tasks.record_heartbeat(
                    task.id, task.attempt, text, self.clock.now_ms() + self.lease_ms
                )
                if self._heartbeat_writes.get(task.id) is details:
                    del self._heartbeat_writes[task.id]
        except Exception:
            self._heartbeat_writes.pop(task.id, None)
            log.exception("could not record heartbeat of %s", task.id)

    # --- background loops ---------------------------------------------------------------------
    async def poll_loop(self) -> None:
        """Claims tasks nobody holds (or whose holder's lease ran out), within capacity."""
        failures = 0
        while not self.stopping:
            free = self.concurrency - self.active
            got = 0
            if free > 0 and self._queues:
                try:
                    rows = await self.tasks.claim_tasks(
                        self.owner,
                        self._claim_queues,
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
                    self.run(row)
                got = len(rows)
            if got and got == min(free, 100):
                await asyncio.sleep(0)  # more may be waiting: claim again at once
            else:
                await wait_or_timeout(self.wake, self.poll_interval)

    async def renew_loop(self) -> None:
        interval = self.lease_ms / 3000
        while not self.stopping:
            await wait_or_timeout(self.wake_renew, interval)
            if self._leased:
                try:
                    stop = await self.tasks.renew_leases(
                        self.owner, list(self._leased), self.clock.now_ms() + self.lease_ms
                    )
                except Exception:
                    log.exception("renewing leases failed; retrying")
                    continue
                self.cancel(stop)  # cancelled, or their execution closed

    async def drain(self) -> None:
        self._stopped = True
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:  # bounded: on 3.11 a cancellation can be lost inside a driver's waits
            _, stuck = await asyncio.wait(list(self._tasks), timeout=5.0)
            if stuck:
                log.warning("%d step task(s) did not stop; their leases will expire", len(stuck))
        self._pool.shutdown(wait=False, cancel_futures=True)


def _failure(exc: BaseException, non_retryable: bool) -> Outcome:
    return Outcome(
        ok=False,
        error_type=type(exc).__name__,
        message=str(exc),
        traceback="".join(traceback.format_exception(exc)),
        error_types=tuple(c.__name__ for c in type(exc).__mro__),
        non_retryable=non_retryable,
    )
