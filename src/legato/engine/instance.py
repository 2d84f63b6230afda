"""One running workflow: its coroutine, what it waits for, and the commands it has issued.

An instance is fed *activations* (groups of input events) and answers with an ``Activation``:
the events it took and its new commands. The same path serves a live execution and a replay:
replaying feeds the recorded groups in order and checks that every command the code issues
matches the recorded one (DESIGN.md §2, §3). It answers ``legato.core.decide.Waits`` for the
decisions made about it; nothing outside this class changes its state.
"""

from __future__ import annotations

import secrets
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from random import Random
from typing import Any

from legato.core import trace_context
from legato.core.asl.aws_history import SHOWN_COMMAND_EVENTS, SHOWN_EVENTS, SHOWN_INPUT_EVENTS
from legato.core.asl.errors import StatesError
from legato.core.commands import (
    CancelExecution,
    Command,
    CompleteExecution,
    FailExecution,
    MarkCompensation,
    RecordState,
    ScheduleStep,
    StartChild,
    StartExternalTask,
    StartTimer,
)
from legato.core.decide import Activation
from legato.core.durations import to_ms
from legato.core.events import (
    COMMAND_EVENTS,
    EXTERNAL_TASK,
    INPUT_EVENTS,
    CancelRequested,
    ChildScheduled,
    CommandEvent,
    CompensationCompleted,
    CompensationStarted,
    Event,
    ExecutionRedriven,
    ExecutionStarted,
    ExternalTaskStarted,
    InputEvent,
    SignalReceived,
    StateEntered,
    StateExited,
    StepScheduled,
    TimerStarted,
)
from legato.core.messages import ParentClosePolicy
from legato.core.redrive import live_history
from legato.core.tokens import make_token
from legato.engine import divergence
from legato.engine.context import Context, StepOptions
from legato.engine.registry import Registry, WorkflowDef
from legato.engine.saga import Compensation, Saga
from legato.engine.scheduler import Diverged, Scheduler, WFuture
from legato.engine.waits import (
    MESSAGE_EVENTS,
    NO_TIMERS,
    PLAIN_EVENTS,
    ChildWait,
    ExternalWait,
    Signals,
    SignalWaiter,
    StepWait,
    TimerWait,
    WaitTable,
)
from legato.errors import (
    Cancelled,
    CompensationFailed,
    NonDeterminismError,
    StepFailed,
    WorkflowUsageError,
)


class WorkflowInstance:
    def __init__(self, workflow: WorkflowDef, registry: Registry, execution_id: str) -> None:
        self.workflow = workflow
        self.execution_id = execution_id
        self._registry = registry
        self._scheduler = Scheduler()
        self._rng: Random | None = None  # seeded on first use: seeding costs
        self._now_ms = 0
        self._seq = 0  # last history seq this instance has seen or written
        self._next_id = 1
        self._waits = WaitTable()
        self._signals = Signals()
        self._recorded: dict[int, CommandEvent] = {}
        self._last_recorded: CommandEvent | None = None
        self._commands: list[Command] = []
        self._cancelled_timers: list[int] = []  # to delete with the next transition
        self._diverged: NonDeterminismError | None = None
        self._closed = False
        self._reports_to_parent = False
        self.has_children = False  # started children: a close tells the open ones
        self._main: WFuture | None = None  # the workflow function's coroutine's result
        self._cancel_steps: tuple[int, ...] = ()  # to ask to stop with the next transition
        self._saga = Saga()
        self.timeout_ms: int | None = None  # the execution timeout, from its start
        self.redrive_count = 0  # $$.Execution.RedriveCount
        # The AWS-shaped view of the history (``core.asl.aws_history``): the id there of the
        # last event the code issued or met (``Context.aws_event_id``); how many events the
        # view will hold once what the code issued is recorded (a transition records the
        # events it was fed before those of its commands); on replay, the ids of the
        # recorded commands' events, from the whole history (a redrive's void events too).
        self.aws_events = 1
        self._aws_tail = 1
        self._aws_ids: dict[int, int] = {}
        self._replaying = False
        self.started_at = 0  # ExecutionStarted's time (its span starts there)
        self.redriven_at: int | None = None  # the last ExecutionRedriven's (its run's span)
        # ExecutionStarted's traceparent: the trace it runs in (``core.trace_context``)
        self.started_in: str | None = None
        self.traceparent: str | None = None  # its own span's, when not derived from its id

    # --- what decisions read ---------------------------------------------------------------
    @property
    def waits(self) -> WaitTable:
        """What it waits for (``legato.core.admit.Waits``): read, never changed, by others."""
        return self._waits

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def now_ms(self) -> int:
        return self._now_ms

    @property
    def reports_to_parent(self) -> bool:
        """Started as a child: its close leaves its parent a message."""
        return self._reports_to_parent

    def seen_up_to(self, seq: int) -> None:
        """The history now ends at ``seq`` (a transition of this instance was committed)."""
        self._seq = seq

    # --- commands issued by workflow code -----------------------------------------------------
    def schedule_step(
        self,
        fn: Callable[..., Any] | str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: StepOptions | None = None,
        compensate: Callable[..., Any] | str | None = None,
    ) -> WFuture:
        step = self._registry.step_for(fn)
        args_json = step.signature.encode_args(args, kwargs, f"step {step.name!r}")
        undo = None if compensate is None else self._registry.step_for(compensate)
        step_id, replayed = self._issue(StepScheduled, step.name)
        fut = WFuture()
        retry = step.retry
        to_start = step.schedule_to_start_timeout
        if options is not None:
            retry = options.retry or retry
            to_start = options.schedule_to_start_timeout or to_start
            if options.has_envelope():
                args_json = f"{args_json[:-1]},{options.envelope()}]"
        start_by = None if to_start is None else self._now_ms + to_ms(to_start)
        self._waits.add(step_id, StepWait(fut, step, retry))
        if undo is not None:  # once it succeeds, its undo is owed (a saga)
            owed = Compensation(undo.name, args, kwargs, step.name, fut)
            fut.add_done_callback(lambda: self._saga.succeeded(owed))
        if not replayed:
            self._commands.append(ScheduleStep(step_id, step.name, step.queue, args_json, start_by))
        return fut

    async def compensate(self, error: BaseException | None) -> None:
        """Run the compensations owed, most recent first, each a durable step; a failure
        raises ``CompensationFailed`` (with ``error``, what made them run, if any)."""
        owed = self._saga.take()
        if not owed:
            return
        ref, replayed = self._issue(CompensationStarted, "compensation")
        if not replayed:
            self._commands.append(MarkCompensation(ref, True, len(owed)))
        for c in reversed(owed):
            options = StepOptions(compensates=c.forward, compensated_result=c.result())
            try:
                await self.schedule_step(c.undo, c.args, c.kwargs, options)
            except StepFailed as exc:
                raise CompensationFailed(error or exc, exc) from error
        ref, replayed = self._issue(CompensationCompleted, "compensation")
        if not replayed:
            self._commands.append(MarkCompensation(ref, False))

    def start_timer(self, seconds: float) -> WFuture:
        if seconds <= 0:
            fut = WFuture()
            fut.resolve(None)
            return fut
        return self._timer(seconds, "sleep")[1]

    def _timer(self, seconds: float, name: str) -> tuple[int, WFuture]:
        timer_id, replayed = self._issue(TimerStarted, name)
        fut = WFuture()
        self._waits.add(timer_id, TimerWait(fut))
        if not replayed:
            self._commands.append(StartTimer(timer_id, self._now_ms + to_ms(seconds), name))
        return timer_id, fut

    def wait_for_signal(self, name: str, timeout: float | None) -> WFuture:
        fut = WFuture()
        found, value = self._signals.take(name)
        if found or (timeout is not None and timeout <= 0):
            fut.resolve(value)
            return fut
        waiter = SignalWaiter(fut)
        if timeout is not None:
            waiter.timer_id, timer = self._timer(timeout, "signal timeout")
            timer.add_done_callback(lambda: fut.resolve(None))
        self._signals.wait(name, waiter)
        return fut

    def start_child(
        self,
        workflow: Callable[..., Any] | str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        child_id: str | None,
        wait: bool,
        close_policy: str | None = None,
    ) -> WFuture:
        if isinstance(workflow, str):
            wf = self._registry.workflow_named(workflow)
        else:
            wf = self._registry.workflow_for(workflow)
        input_json = wf.signature.encode_args(args, kwargs, f"input of child workflow {wf.name!r}")
        command_id, replayed = self._issue(ChildScheduled, wf.name)
        recorded = self._last_recorded
        if replayed and isinstance(recorded, ChildScheduled):
            child_id = recorded.child_id
        child_id = child_id or f"{self.execution_id}/{command_id}"
        self.has_children = True
        fut = WFuture()
        self._waits.add(command_id, ChildWait(fut, child_id, wf))
        if not replayed:
            policy = close_policy or ParentClosePolicy.REQUEST_CANCEL
            self._commands.append(
                StartChild(command_id, child_id, wf.name, wf.version, input_json, wait,
                           wf.timeout_ms, ParentClosePolicy(policy).value)
            )  # fmt: skip
        return fut

    def external_task(
        self, timeout: float | None, heartbeat_timeout: float | None
    ) -> tuple[WFuture, str]:
        command_id, replayed = self._issue(ExternalTaskStarted, EXTERNAL_TASK)
        recorded = self._last_recorded
        if replayed and isinstance(recorded, ExternalTaskStarted):
            token = recorded.token
        else:  # unguessable, and recorded: a replay reads it back from the history
            token = make_token(self.execution_id, command_id, secrets.randbits(128))
        timeout_timer = heartbeat_timer = None
        if timeout is not None:
            timeout_timer = (self._reserve_id(), self._now_ms + to_ms(timeout))
        hb_ms = to_ms(heartbeat_timeout) if heartbeat_timeout is not None else None
        if hb_ms is not None:
            heartbeat_timer = (self._reserve_id(), self._now_ms + hb_ms)
        fut = WFuture()
        wait = ExternalWait(
            fut,
            token,
            timeout_timer[0] if timeout_timer else None,
            heartbeat_timer[0] if heartbeat_timer else None,
            hb_ms,
            heartbeat_timer[1] if heartbeat_timer else None,
        )
        self._waits.add(command_id, wait)
        if not replayed:
            self._commands.append(
                StartExternalTask(command_id, token, timeout_timer, heartbeat_timer)
            )
        return fut, token

    def record_state(self, state: str, data: str, exited: bool) -> int:
        record_id, replayed = self._issue(StateExited if exited else StateEntered, state)
        if not replayed:
            self._commands.append(RecordState(record_id, exited, state, data))
        return record_id

    def gather(self, aws: Sequence[Awaitable[Any]]) -> WFuture:
        return self._scheduler.gather(*aws)

    def random(self) -> float:
        return self._seeded().random()

    def random_bits(self, k: int) -> int:
        return self._seeded().getrandbits(k)

    def _seeded(self) -> Random:
        """The execution's own generator, seeded with its id: the same values on every replay.
        Made when first asked for, since seeding costs as much as a small decision and most
        workflows never ask."""
        if self._rng is None:
            self._rng = Random(self.execution_id)
        return self._rng

    def _reserve_id(self) -> int:
        """A number for a timer that belongs to the previous command (no event of its own)."""
        reserved = self._next_id
        self._next_id += 1
        return reserved

    def _cancel_timer(self, timer_id: int) -> None:
        self._waits.drop(timer_id)
        self._cancelled_timers.append(timer_id)

    def _issue(self, kind: type[CommandEvent], name: str) -> tuple[int, bool]:
        """Number the next command; True if the history already recorded it (a replay)."""
        command_id = self._next_id
        self._next_id += 1
        recorded = self._recorded.pop(command_id, None)
        if kind in SHOWN_COMMAND_EVENTS:
            if recorded is not None and command_id in self._aws_ids:
                self.aws_events = self._aws_ids[command_id]
            else:  # recorded after everything the history holds
                self._aws_tail += 1
                self.aws_events = self._aws_tail
        self._last_recorded = recorded
        if recorded is None:
            return command_id, False
        now = divergence.Issued(kind, name)
        if divergence.issued(recorded) != now:
            self._diverged = NonDeterminismError(
                f"command #{command_id}", divergence.describe_recorded(recorded), now.describe()
            )
            raise Diverged()
        return command_id, True

    # --- activations --------------------------------------------------------------------------
    def start(
        self,
        input_json: str | None,
        ts: int,
        timeout_ms: int | None = None,
        traceparent: str | None = None,
    ) -> Activation:
        self._now_ms = self.started_at = ts
        if traceparent is not None:
            self.started_in = traceparent
            self.traceparent = trace_context.own_traceparent(self.execution_id, traceparent)
        self.timeout_ms = timeout_ms
        ctx = Context(self)
        args, kwargs = self.workflow.signature.decode_args(input_json) if input_json else ([], {})
        result = self._scheduler.spawn(self.workflow.fn(ctx, *args, **kwargs))
        self._main = result
        result.add_done_callback(lambda: self._ended(result))
        return self._run(())

    def _ended(self, result: WFuture) -> None:
        """The workflow function returned or raised. If it failed or was cancelled owing
        compensations (a saga), they run first, then its error ends the execution."""
        err = result.error
        if self._saga.owed and isinstance(err, Exception | Cancelled):
            undo = self._scheduler.spawn(self._compensate_then_raise(err))
            undo.add_done_callback(lambda: self._finish(undo))
            return
        self._finish(result)

    async def _compensate_then_raise(self, error: BaseException) -> None:
        await self.compensate(error)
        raise error

    def activate(
        self, events: Iterable[InputEvent], ts: int, consumed_inbox: Iterable[int] = ()
    ) -> Activation:
        """Feed input events; ``consumed_inbox``: inbox rows this decision consumes, events or
        not (a message for something already settled)."""
        self._now_ms = ts
        if consumed_inbox:
            self._waits.consumed(consumed_inbox)
        deliver = self._deliver
        accepted = tuple([event for event in events if deliver(event)])
        if not self._replaying:  # a replay counted the whole history at once
            self._aws_tail += sum(isinstance(event, SHOWN_INPUT_EVENTS) for event in accepted)
        return self._run(accepted)

    def _deliver(self, event: InputEvent) -> bool:
        """True if the event changed something (duplicates, for something already resolved,
        are left out of the history)."""
        if isinstance(event, PLAIN_EVENTS):  # the hot path: a step result, a timer
            unneeded = self._waits.settle(event)
            if unneeded:
                for timer_id in unneeded:
                    self._cancel_timer(timer_id)
            return unneeded is not None
        if isinstance(event, MESSAGE_EVENTS) and event.inbox is not None:
            self._waits.consumed((event.inbox,))  # consumed, whether or not still of use
        if isinstance(event, CancelRequested):
            return self._cancel(event.reason)
        if isinstance(event, SignalReceived):
            waiter = self._signals.receive(event.name, event.payload)
            if waiter is not None and waiter.timer_id is not None:
                self._cancel_timer(waiter.timer_id)
            return True
        unneeded = self._waits.settle(event)
        for timer_id in unneeded or ():
            self._cancel_timer(timer_id)
        return unneeded is not None

    def _cancel(self, reason: str | None) -> bool:
        """Raise ``Cancelled`` in the workflow at the await where it is blocked, and ask the
        steps it waits for to stop (with this decision's transition)."""
        if self._waits.cancel_requested:
            return False
        self._waits.cancel_requested = True
        self._cancel_steps = self._waits.steps()
        if self._main is not None:
            self._scheduler.throw(self._main, Cancelled(reason))
        return True

    def _run(self, accepted: tuple[InputEvent, ...]) -> Activation:
        try:
            self._scheduler.run_until_blocked()
        except Diverged:
            pass
        if self._diverged is not None:
            raise self._diverged
        commands, self._commands = tuple(self._commands), []
        cancelled: tuple[int, ...] = NO_TIMERS
        if self._cancelled_timers:
            cancelled, self._cancelled_timers = tuple(self._cancelled_timers), []
        # whether rows are left (waits, its timeout timer) matters only to a close: it purges
        leftover = self._closed and (bool(self._waits) or self.timeout_ms is not None)
        activation = Activation(accepted, commands, cancelled, leftover)
        if self._cancel_steps:
            activation = activation._replace(cancel_steps=self._cancel_steps)
            self._cancel_steps = ()
        return activation

    def _finish(self, result: WFuture) -> None:
        self._closed = True
        err = result.error
        if isinstance(err, Cancelled):
            self._commands.append(CancelExecution(err.reason))
            return
        if err is None:
            try:
                what = f"result of workflow {self.workflow.name!r}"
                out = self.workflow.signature.encode_result(result.value, what)
            except Exception as exc:
                self._commands.append(FailExecution(type(exc).__name__, str(exc), ""))
                return
            self._commands.append(CompleteExecution(out))
        elif isinstance(err, Diverged):
            return
        elif isinstance(err, StatesError):  # a state machine's error: name and cause, as in ASL
            self._commands.append(FailExecution(err.error, err.cause, "", _cause_ref(err)))
        else:
            tb = "".join(traceback.format_exception(err))
            self._commands.append(FailExecution(_error_type(err), str(err), tb, _cause_ref(err)))

    # --- replay -------------------------------------------------------------------------------
    def replay(self, history: Sequence[Event]) -> tuple[Command, ...]:
        """Re-run the code over a recorded history; returns the commands the history lacks
        (issued by code that ran after the last recorded transition)."""
        # what runs anew (after a redrive) sees how many there were, whatever it replaces
        redrives = [e for e in history if isinstance(e, ExecutionRedriven)]
        self.redrive_count = len(redrives)
        self.redriven_at = redrives[-1].ts if redrives else None
        shown = [e for e in history if isinstance(e, SHOWN_EVENTS)]
        self._aws_tail = len(shown)
        self._aws_ids = {
            e.ref: i for i, e in enumerate(shown, start=1) if isinstance(e, COMMAND_EVENTS)
        }  # a redrive's new event for a command comes after its void one: it wins
        self._replaying = True
        history = live_history(history)  # without what a redrive voided
        for event in history:
            if isinstance(event, COMMAND_EVENTS):
                self._recorded[event.ref] = event
        new: list[Command] = []
        for batch in _batches(history):
            self._seq = batch[-1].seq
            inputs = [e for e in batch if isinstance(e, INPUT_EVENTS)]
            first = batch[0]
            if isinstance(first, ExecutionStarted):
                self._reports_to_parent = first.parent_ref is not None
                new += self._replay_start(first).commands
                new += self.activate(inputs, first.ts).commands
            elif inputs:
                new += self.activate(inputs, first.ts).commands
        self._replaying = False
        self._cancel_steps = ()  # asked by the transitions that recorded the cancellation
        self._cancelled_timers.clear()  # deleted by the transitions that recorded them
        if self._recorded:
            ref = min(self._recorded)
            now = "return from the workflow" if self._closed else divergence.NOTHING
            self._diverged = NonDeterminismError(
                f"command #{ref}", divergence.describe_recorded(self._recorded[ref]), now
            )
            raise self._diverged
        return tuple(new)

    def _replay_start(self, started: ExecutionStarted) -> Activation:
        try:
            return self.start(started.input, started.ts, started.timeout_ms, started.traceparent)
        except NonDeterminismError:
            raise
        except Exception as exc:  # the code's signature no longer takes the input
            self._diverged = NonDeterminismError(
                "the workflow input",
                "an input the workflow accepted at start",
                f"reject it ({type(exc).__name__}: {exc})",
            )
            raise self._diverged from None

    def close(self) -> None:
        self._scheduler.close()


def _error_type(err: BaseException) -> str:
    if isinstance(err, StepFailed):
        return err.error_type
    if isinstance(err, WorkflowUsageError):
        return "WorkflowUsageError"
    return type(err).__name__


def _cause_ref(err: BaseException) -> int | None:
    """The command whose failure ``err`` is, or comes from (a redrive runs it again)."""
    seen: BaseException | None = err
    for _ in range(16):  # a chain of causes, bounded
        if seen is None:
            return None
        ref = getattr(seen, "cause_ref", None)
        if isinstance(ref, int):
            return ref
        seen = seen.__cause__ or seen.__context__
    return None


def _batches(history: Sequence[Event]) -> list[list[Event]]:
    out: list[list[Event]] = []
    for event in history:
        if out and out[-1][0].batch == event.batch:
            out[-1].append(event)
        else:
            out.append([event])
    return out
