"""Runs steps: claims tasks (or takes them straight from the local orchestrator), enforces
start-to-close and heartbeat timeouts, and reports each attempt's outcome."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import random
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from legato.core import codec
from legato.engine.outcome import Outcome
from legato.engine.registry import Registry, StepDef
from legato.engine.step_context import StepContext, bind
from legato.errors import NonRetryableError, SerializationError
from legato.ports.clock import Clock
from legato.ports.store import Store, TaskRow

log = logging.getLogger("legato.worker")

OnOutcome = Callable[[TaskRow, Outcome], None]


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
        store: Store,
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
        self.store = store
        self.registry = registry
        self.clock = clock
        self.owner = owner
        self.lease_ms = lease_ms
        self.queues = queues
        self.on_outcome = on_outcome
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self._sem = asyncio.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="legato-step")
        self.leased: dict[str, int] = {}  # task id -> attempt, renewed while held
        self.active = 0  # tasks submitted and not yet reported
        self._tasks: set[asyncio.Task[None]] = set()
        self._heartbeat_writes: dict[str, Any] = {}
        self._stopped = False
        self.wake = asyncio.Event()  # set when another process made tasks claimable
        self.wake_renew = asyncio.Event()
        self.stopping = False  # the loops end at their next turn

    def stop_loops(self) -> None:
        self.stopping = True
        self.wake.set()
        self.wake_renew.set()

    # --- intake -------------------------------------------------------------------------------
    def submit(self, task: TaskRow) -> None:
        if self._stopped:
            return  # its lease runs out and the next process claims it
        self.leased[task.id] = task.attempt
        self.active += 1
        t = asyncio.get_running_loop().create_task(self._run(task))
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    def release(self, task_id: str) -> None:
        """Stop renewing a lease: the outcome is committed, or it is lost and must expire."""
        self.leased.pop(task_id, None)

    async def _run(self, task: TaskRow) -> None:
        try:
            async with self._sem:
                outcome = await self.execute(task)
            if self.on_outcome is not None:
                self.on_outcome(task, outcome)
            else:
                try:
                    await self.store.finish_task(
                        task.id, task.attempt, self.owner, outcome.to_json()
                    )
                finally:
                    self.release(task.id)
        finally:
            self.active -= 1
            self.wake.set()  # a slot is free: a full worker claims again now, not at its next poll

    # --- running one attempt ------------------------------------------------------------------
    async def execute(self, task: TaskRow) -> Outcome:
        step = self.registry.steps.get(task.name)
        if step is None:
            return Outcome(
                ok=False,
                error_type="States.Runtime",
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
        ctx._on_heartbeat = self._heartbeat_writer(task)
        bind(ctx)
        outcome = await self._attempt(step, task, ctx)
        if ctx.latest_details is not None:  # the next attempt starts from these
            try:
                outcome.heartbeat_details = codec.dumps(ctx.latest_details, "heartbeat details")
            except SerializationError:
                pass
        return outcome

    async def _attempt(self, step: StepDef, task: TaskRow, ctx: StepContext) -> Outcome:
        try:
            args, kwargs, options = step.signature.decode_call(task.args)
        except Exception as exc:
            return _failure(exc, non_retryable=True)
        limits = _Limits(
            options.get("timeout", step.timeout),
            options.get("heartbeat_timeout", step.heartbeat_timeout),
        )
        try:
            result = await self._call(step, args, kwargs, ctx, limits)
        except _Timeout as exc:
            return Outcome(
                ok=False, error_type=exc.error_type, message=str(exc), error_types=[exc.error_type]
            )
        except Exception as exc:
            return _failure(exc, non_retryable=isinstance(exc, NonRetryableError))
        try:
            return Outcome(ok=True, result=codec.dumps(result, f"result of step {step.name!r}"))
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
        started = time.monotonic()
        timeout, hb_timeout = limits.timeout, limits.heartbeat_timeout
        deadline = started + timeout if timeout is not None else float("inf")

        def hb_deadline() -> float:  # read afresh: a heartbeat may arrive while we wait
            return ctx.last_heartbeat + hb_timeout if hb_timeout is not None else float("inf")

        while True:
            wait = min(deadline, hb_deadline()) - time.monotonic()
            done, _ = await asyncio.wait({fut}, timeout=max(wait, 0.0))
            if fut in done:
                return fut.result()
            now = time.monotonic()
            if now >= deadline:
                fut.cancel()
                raise _Timeout(
                    "States.Timeout",
                    f"step {step.name!r} ran past its start-to-close timeout of {timeout}s",
                )
            if now >= hb_deadline():
                fut.cancel()
                raise _Timeout(
                    "States.HeartbeatTimeout",
                    f"step {step.name!r} sent no heartbeat for {hb_timeout}s",
                )

    def _heartbeat_writer(self, task: TaskRow) -> Callable[[Any], None]:
        loop = asyncio.get_running_loop()

        def on_heartbeat(details: Any) -> None:
            if details is not None:
                loop.call_soon_threadsafe(self._queue_heartbeat, task, details)

        return on_heartbeat

    def _queue_heartbeat(self, task: TaskRow, details: Any) -> None:
        writing = task.id in self._heartbeat_writes
        self._heartbeat_writes[task.id] = details
        if not writing:
            asyncio.get_running_loop().create_task(self._write_heartbeats(task))

    async def _write_heartbeats(self, task: TaskRow) -> None:
        try:
            while task.id in self._heartbeat_writes:
                details = self._heartbeat_writes[task.id]
                text = codec.dumps(details, f"heartbeat details of step {task.name!r}")
                await self.store.record_heartbeat(
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
            if free > 0 and self.queues:
                try:
                    rows = await self.store.claim_tasks(
                        self.owner, self.queues, self.clock.now_ms(), self.lease_ms, min(free, 100)
                    )
                    failures = 0
                except Exception as exc:
                    failures += 1
                    pause = backoff(failures)
                    log.warning("claiming tasks failed (%s); retrying in %.1fs", exc, pause)
                    await wait_or_timeout(self.wake_renew, pause)  # woken only to stop
                    continue
                for row in rows:
                    self.submit(row)
                got = len(rows)
            if got and got == min(free, 100):
                await asyncio.sleep(0)  # more may be waiting: claim again at once
            else:
                await wait_or_timeout(self.wake, self.poll_interval)

    async def renew_loop(self) -> None:
        interval = self.lease_ms / 3000
        while not self.stopping:
            await wait_or_timeout(self.wake_renew, interval)
            if self.leased:
                try:
                    await self.store.renew_leases(
                        self.owner, list(self.leased), self.clock.now_ms() + self.lease_ms
                    )
                except Exception:
                    log.exception("renewing leases failed; retrying")

    async def drain(self) -> None:
        self._stopped = True
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:  # bounded: on 3.11 a cancellation can be lost inside a driver's waits
            _, stuck = await asyncio.wait(list(self._tasks), timeout=5.0)
            if stuck:
                log.warning("%d step task(s) did not stop; their leases will expire", len(stuck))
        self._pool.shutdown(wait=False, cancel_futures=True)


def backoff(failures: int, base: float = 0.1, cap: float = 5.0) -> float:
    """Exponential backoff with full jitter, for retrying a lost database."""
    return random.uniform(0, min(cap, base * 2 ** min(failures, 16)))


async def wait_or_timeout(event: asyncio.Event, timeout: float) -> None:
    """Sleep until ``event`` is set or ``timeout`` passes, then clear it.

    A cancellation that arrives while the event is already set would otherwise go unseen until
    the loop next suspends (and ``wait_for`` on 3.11 can lose it altogether): check for it, so a
    stopping engine never waits on a loop that did not notice."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        pass
    event.clear()
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


def _failure(exc: BaseException, non_retryable: bool) -> Outcome:
    return Outcome(
        ok=False,
        error_type=type(exc).__name__,
        message=str(exc),
        traceback="".join(traceback.format_exception(exc)),
        error_types=[c.__name__ for c in type(exc).__mro__],
        non_retryable=non_retryable,
    )
