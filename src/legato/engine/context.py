"""``legato.Context``: what a workflow function receives as its first argument.

Every method is a command to the workflow instance (or a value it recorded), so the code
behaves the same live and on replay.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from legato.core import codec
from legato.core.durations import instant, optional_seconds, seconds
from legato.core.retry import Retry
from legato.engine.scheduler import WFuture

if TYPE_CHECKING:
    from legato.engine.instance import WorkflowInstance


@dataclass(frozen=True, slots=True)
class StepOptions:
    retry: Retry | None = None
    timeout: float | None = None  # seconds, start-to-close per attempt
    heartbeat_timeout: float | None = None
    schedule_to_start_timeout: float | None = None
    compensates: str | None = None  # a compensation: the step it undoes ...
    compensated_result: str | None = None  # ... and that step's result (JSON)

    def has_envelope(self) -> bool:
        return any(v is not None for v in (self.timeout, self.heartbeat_timeout, self.compensates))

    def envelope(self) -> str:
        """What the worker reads besides the arguments (the third element of a task's args):
        the call's timeouts, and what a compensation undoes."""
        options: dict[str, Any] = {
            "timeout": self.timeout,
            "heartbeat_timeout": self.heartbeat_timeout,
            "compensates": self.compensates,
            "compensated_result": self.compensated_result,
        }
        return codec.dumps({k: v for k, v in options.items() if v is not None}, "step options")


class Context:
    """What a workflow function receives as its first argument."""

    def __init__(self, instance: WorkflowInstance) -> None:
        self._instance = instance
        self.execution_id = instance.execution_id
        self.workflow = instance.workflow.name
        self.version = instance.workflow.version

    def step(
        self,
        fn: Callable[..., Any] | str,
        *args: Any,
        compensate: Callable[..., Any] | str | None = None,
        **kwargs: Any,
    ) -> WFuture:
        """Schedule a registered step; await the result (or pass it to ``gather``).
        ``compensate``: a registered step that undoes this one (a saga), called with the same
        arguments if the workflow later fails or is cancelled, or calls ``compensate()``."""
        return self._instance.schedule_step(fn, args, kwargs, None, compensate)

    def call_step(
        self,
        fn: Callable[..., Any] | str,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        retry: Retry | None = None,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
        compensate: Callable[..., Any] | str | None = None,
        schedule_to_start_timeout: float | timedelta | None = None,
    ) -> WFuture:
        """``step`` with this call's own retry policy and timeouts in place of the step's
        registered ones (Temporal's per-call activity options; a Task state's TimeoutSeconds)."""
        options = StepOptions(
            retry,
            optional_seconds(timeout),
            optional_seconds(heartbeat_timeout),
            optional_seconds(schedule_to_start_timeout),
        )
        return self._instance.schedule_step(fn, args, kwargs or {}, options, compensate)

    async def compensate(self) -> None:
        """Run the compensations owed so far, most recent first, each a durable step; none
        are owed afterwards. A compensation that fails for good raises
        ``CompensationFailed``."""
        await self._instance.compensate(None)

    @property
    def redrive_count(self) -> int:
        """How many times this execution was redriven (Step Functions' RedriveCount)."""
        return self._instance.redrive_count

    def record_state(self, state: str, data: str, *, exited: bool) -> int:
        """Record that a state machine entered (or left) a state, with its input (output) as
        JSON: a ``StateEntered``/``StateExited`` history event, checked again on replay.
        Returns the record's command number."""
        return self._instance.record_state(state, data, exited)

    def sleep(self, duration: float | timedelta) -> WFuture:
        """A durable timer: survives restarts; ``await ctx.sleep(3600)``."""
        return self._instance.start_timer(seconds(duration))

    def wait_for_signal(self, name: str, *, timeout: float | timedelta | None = None) -> WFuture:
        """The payload of the next signal ``name`` not yet taken (signals that came earlier
        wait, in order); with ``timeout``, None if none comes in time."""
        return self._instance.wait_for_signal(name, optional_seconds(timeout))

    def child(
        self,
        workflow: Callable[..., Any] | str,
        *args: Any,
        id: str | None = None,
        parent_close_policy: str | None = None,
        **kwargs: Any,
    ) -> WFuture:
        """Start a child execution and await its result; its failure raises ``ChildFailed``.
        ``id`` defaults to ``{parent id}/{command number}``; an existing execution with that id
        and the same workflow and input is attached to, not started again.
        ``parent_close_policy``: if this execution closes while the child is still open,
        ``"request_cancel"`` (the default) cancels it, ``"terminate"`` terminates it and
        ``"abandon"`` lets it run on."""
        return self._instance.start_child(workflow, args, kwargs, id, True, parent_close_policy)

    def start_child(
        self,
        workflow: Callable[..., Any] | str,
        *args: Any,
        id: str | None = None,
        parent_close_policy: str | None = None,
        **kwargs: Any,
    ) -> WFuture:
        """Start a child execution without awaiting its result: resolves to a ``ChildRef``
        (id, start time) once it exists. ``parent_close_policy`` as for ``child``."""
        return self._instance.start_child(workflow, args, kwargs, id, False, parent_close_policy)

    def external_task(
        self,
        *,
        timeout: float | timedelta | None = None,
        heartbeat_timeout: float | timedelta | None = None,
    ) -> tuple[WFuture, str]:
        """A durable wait completed from outside with a task token: returns ``(future, token)``.
        ``app.send_task_success(token, output)`` resolves the future with ``output``;
        ``send_task_failure(token, error, cause)`` raises ``ExternalTaskFailed``, as do
        ``timeout`` (``States.Timeout``) and ``heartbeat_timeout`` (``States.HeartbeatTimeout``:
        no heartbeat or completion within that long of the start or the last heartbeat)."""
        return self._instance.external_task(
            optional_seconds(timeout), optional_seconds(heartbeat_timeout)
        )

    def gather(self, *aws: Awaitable[Any]) -> WFuture:
        """Wait for all, like ``asyncio.gather``: results in order, first failure raised."""
        return self._instance.gather(aws)

    def now(self) -> datetime:
        """The time of the event being processed: the same on every replay."""
        return instant(self._instance.now_ms)

    def aws_event_id(self) -> int:
        """The id the last event recorded so far has in the execution's AWS-shaped history
        (``legato.core.asl.aws_history``: ExecutionStarted is 1): right after
        ``record_state``, that of the state's ``StateEntered``. A state machine's runtime
        errors name it, as Step Functions' do."""
        return self._instance.aws_events

    def random(self) -> float:
        return self._instance.random()

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._instance.random_bits(128), version=4)
