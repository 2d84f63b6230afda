"""Running one step attempt: decoding its call, running it (on the loop, or in a thread for a
sync step), enforcing its start-to-close and heartbeat timeouts, and turning what it did into
an ``Outcome``. The worker (``legato.engine.worker``) decides what to run and what becomes of
the outcome; this module only runs it.

A cancelled execution's running attempt is told through its step context (``cancelled``; a
sync step's ``heartbeat()`` raises ``legato.Cancelled``) and an async one is cancelled: either
way its outcome is a non-retryable ``Legato.Cancelled`` failure.

Timeouts are measured on the engine's ``Clock``, so a time-skipping test clock moves them too.
A sync step's thread cannot be stopped: when its attempt is cancelled (a timeout, or a stop
past its grace period) the thread runs on and its result is dropped; ``threads_running`` says
how many are left.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from legato.core import codec, error_names
from legato.core.durations import to_ms
from legato.core.outcome import Outcome
from legato.core.transition import Task
from legato.engine import log_events, tracing
from legato.engine.registry import StepDef
from legato.engine.step_context import StepContext, bind
from legato.errors import Cancelled, NamedStepError, NonRetryableError, SerializationError
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


class Attempts:
    """Runs attempts and is their ``HeartbeatSink``: heartbeat details go to the task row."""

    def __init__(self, tasks: TaskQueue, clock: Clock, *, lease_ms: int, threads: int) -> None:
        self.tasks = tasks
        self.clock = clock
        self.lease_ms = lease_ms
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="legato-step")
        self._threads: set[Future[Any]] = set()  # sync steps submitted and not yet returned
        self._heartbeat_writes: dict[str, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.contexts: dict[str, StepContext] = {}  # attempts running now, by task id

    async def execute(self, step: StepDef, task: Task) -> Outcome:
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
        self.contexts[task.id] = ctx
        try:
            if tracing.tracer() is None:
                outcome = await self._attempt(step, task, ctx)
            else:
                outcome = await self._traced(step, task, ctx)
        finally:
            self.contexts.pop(task.id, None)
        if ctx.latest_details is not None:  # the next attempt starts from these
            try:
                details = codec.dumps(ctx.latest_details, "heartbeat details")
                outcome = outcome._replace(heartbeat_details=details)
            except SerializationError:
                pass
        return outcome

    async def _traced(self, step: StepDef, task: Task, ctx: StepContext) -> Outcome:
        """The attempt inside its span (``legato.engine.tracing``), the current span of the
        step's code."""
        with tracing.step_attempt(
            task.execution_id, task.traceparent, task.name, task.attempt, task.step_id
        ) as span:
            outcome = await self._attempt(step, task, ctx)
            if not outcome.ok:
                tracing.failed(span, outcome.error_type or "Error", outcome.message or "")
            return outcome

    def threads_running(self) -> int:
        """Sync steps whose thread has not returned (cancelled attempts' threads run on)."""
        return sum(1 for f in list(self._threads) if not f.done())

    def shutdown(self) -> None:
        """No new threads; those not started yet never start, running ones are left alone."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _attempt(self, step: StepDef, task: Task, ctx: StepContext) -> Outcome:
        try:
            args, kwargs, options = step.signature.decode_call(task.args)
        except Exception as exc:
            return _failure(exc, non_retryable=True)
        if "compensates" in options:  # a saga's compensation: what it undoes, and its result
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
            if not ctx.cancelled:  # abandoned by a stopping worker: not the step's outcome
                raise
            message = f"step {step.name!r} stopped: its execution was cancelled"
            return Outcome.failure(error_names.CANCELLED, message, non_retryable=True)
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
            thread = self._pool.submit(call)
            self._threads.add(thread)
            thread.add_done_callback(self._threads.discard)
            fut = asyncio.wrap_future(thread)
            if unlimited:
                return await fut
        try:
            return await self._watch(fut, step, ctx, limits)
        except asyncio.CancelledError:  # the attempt is abandoned: so is the step
            fut.cancel()
            raise

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

    # --- heartbeats (``legato.engine.step_context.HeartbeatSink``) ----------------------------
    def heartbeat(self, ctx: StepContext, details: Any) -> None:
        """In the step's thread for a sync step."""
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
            extra = log_events.task_fields("step.heartbeat_failed", task)
            log.exception("could not record heartbeat of %s", task.id, extra=extra)


def _failure(exc: BaseException, non_retryable: bool) -> Outcome:
    named = (exc.error,) if isinstance(exc, NamedStepError) else ()
    return Outcome(
        ok=False,
        error_type=named[0] if named else type(exc).__name__,
        message=_message(exc),
        traceback="".join(traceback.format_exception(exc)),
        error_types=named + tuple(c.__name__ for c in type(exc).__mro__),
        non_retryable=non_retryable,
    )


def _message(exc: BaseException) -> str:
    """The exception's text; one whose ``str()`` is empty but that sets a ``message`` attribute
    reports that, as the AWS Lambda runtime does for a function's error."""
    text = str(exc)
    message = getattr(exc, "message", None)
    if not text and isinstance(message, str):
        return message
    return text
