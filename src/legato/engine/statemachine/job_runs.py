"""The ``.sync`` pattern of the optimized integrations (developer guide, "Run a Job
(.sync)"): start the job, then poll its describe call with durable timers in between until
it ends (``core.asl.sync_jobs`` says how for each service).

Every call is a durable step and every wait a durable timer, so a crash while the job runs
loses nothing: the execution replays to the poll it was at and carries on. TimeoutSeconds
bounds the whole wait, from the start call to the last poll, as in Step Functions; when it
passes, the job is asked to stop (once; a failure to stop is ignored, the state fails with
States.Timeout either way). An execution cancelled while it waits stops the job the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from legato.core import error_names
from legato.core.asl import sync_jobs
from legato.core.asl.errors import StatesError, task_error
from legato.core.asl.optimized_shapes import Optimized, json_text, response
from legato.core.asl.resources import Integration
from legato.core.durations import epoch_ms
from legato.core.events import JSON
from legato.engine.statemachine.aws_calls import call_aws
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Run
from legato.errors import Cancelled


class Call(Protocol):
    """One AWS call of the job's service, as a durable step; ``bounded``: within the time
    TimeoutSeconds leaves."""

    def __call__(
        self, operation: str, call_params: JSON, *, bounded: bool = True
    ) -> Awaitable[JSON]: ...


async def run_job(
    run: Run,
    sd: StateData,
    resource: Integration,
    spec: Optimized,
    params: JSON,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The finished job's description; ``States.TaskFailed`` (the description as its cause)
    when the job ended unsuccessfully, ``States.Timeout`` past TimeoutSeconds."""
    deadline = None if timeout is None else epoch_ms(run.ctx.now()) + timeout * 1000

    def left() -> float | None:
        return None if deadline is None else (deadline - epoch_ms(run.ctx.now())) / 1000

    async def call(operation: str, call_params: JSON, *, bounded: bool = True) -> JSON:
        remaining = left() if bounded else None
        budget = None if remaining is None else max(remaining, 0.001)
        return await call_aws(
            run, sd, spec.service, operation, call_params, budget, heartbeat, spec.prefix
        )

    started = response(resource, args, await call(spec.operation, params))
    try:
        watch = sync_jobs.watch(resource, args, started)
    except ValueError as exc:
        raise task_error(error_names.TASK_FAILED, str(exc)) from None
    try:
        return await _follow(run, resource, watch, call, left)
    except Cancelled:  # the execution is cancelled: the job it waits for is stopped too
        await _stop(watch, call)
        raise


async def _follow(
    run: Run,
    resource: Integration,
    watch: sync_jobs.Watch,
    call: Call,
    left: Callable[[], float | None],
) -> JSON:
    """Poll until the job ends or the deadline passes."""
    polls = 0
    while True:
        described = await call(watch.describe, watch.describe_params)
        state, job = sync_jobs.progress(resource, described)
        if state == "succeeded":
            return job
        if state == "failed":
            raise task_error(error_names.TASK_FAILED, json_text(job))
        delay, remaining = sync_jobs.poll_delay(polls), left()
        if remaining is None:
            await run.ctx.sleep(delay)
        else:
            if remaining > 0:
                await run.ctx.sleep(min(delay, remaining))
                remaining = left() or 0.0
            if remaining <= 0:  # no describe call past the deadline: stop the job, time out
                await _stop(watch, call)
                raise task_error(error_names.TIMEOUT, "")
        polls += 1


async def _stop(watch: sync_jobs.Watch, call: Call) -> None:
    """Ask the service to stop the job no one waits for any more (each of its ECS tasks):
    best effort, a failure to stop it changes nothing about how the state ends."""
    for params in watch.stop_params:
        try:
            await call(watch.stop, params, bounded=False)
        except StatesError:
            pass
