"""Runs an Amazon States Language state machine as a deterministic workflow.

The interpreter is workflow code like any other (DESIGN.md §2): every Task is a step, every
Wait and every retry interval a durable timer, and every state entered or left a history event,
so a crashed execution replays to where it was and carries on. Nothing here reads the clock or
draws randomness except through the workflow context.

Semantics follow the ASL specification (https://states-language.net/spec.html) and the AWS
Step Functions developer guide; each state type's handler cites its section.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, cast

from legato.core import codec, error_names
from legato.core.asl import choice, limits, policies
from legato.core.asl.arns import AwsIdentity
from legato.core.asl.errors import StatesError, reported
from legato.core.asl.times import format_timestamp, parse_timestamp
from legato.core.durations import epoch_ms
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import JSONATA, Obj, StateData

if TYPE_CHECKING:
    from legato.engine.context import Context
    from legato.engine.statemachine.mocking import MockSession

#: A state's outcome: the next state's name (None: the scope ends) and the state's output.
Outcome = tuple[str | None, JSON]

#: Step Functions' two workflow types (developer guide, "Choosing workflow type").
MachineType = Literal["STANDARD", "EXPRESS"]
MACHINE_TYPES: Final[tuple[MachineType, ...]] = ("STANDARD", "EXPRESS")
#: ``$$.Execution.RoleArn`` when the machine names no role: a placeholder in AWS's format.
DEFAULT_ROLE_ARN: Final = "arn:aws:iam::123456789012:role/LegatoStatesExecutionRole"


@dataclass(frozen=True, slots=True)
class MachineOptions:
    """What AWS sets on a state machine besides its definition (CreateStateMachine's ``type``
    and ``roleArn``): its workflow type and the role its executions run as."""

    type: MachineType = "STANDARD"
    role_arn: str = DEFAULT_ROLE_ARN

    def __post_init__(self) -> None:
        if self.type not in MACHINE_TYPES:
            raise ValueError(f"a state machine type is STANDARD or EXPRESS, not {self.type!r}")


class Cancelled(Exception):
    """A Parallel branch or Map iteration stops because a sibling failed the whole state."""


@dataclass
class Cancel:
    """Shared by the branches or iterations of one Parallel or Map state."""

    parent: Cancel | None = None
    cancelled: bool = False

    def check(self) -> None:
        node: Cancel | None = self
        while node is not None:
            if node.cancelled:
                raise Cancelled()
            node = node.parent


@dataclass
class Scope:
    """A top-level machine, a Parallel branch or a Map iteration: its states, its variables
    (a copy of the enclosing scope's: inner assignments never leak out) and, in a Map, the
    item it processes."""

    definition: Obj
    variables: dict[str, JSON]
    cancel: Cancel
    item: Obj | None = None
    language: str = "JSONPath"


@dataclass
class Run:
    """One execution of a state machine."""

    ctx: Context
    name: str
    definition: Obj
    input: JSON
    start_ms: int
    rng: random.Random
    options: MachineOptions = field(default_factory=MachineOptions)
    aws: AwsIdentity = field(default_factory=AwsIdentity)  # the region and account of ARNs
    start_time: str = field(init=False)  # $$.Execution.StartTime, the same for every state
    _dumped: tuple[object, str] | None = field(default=None, init=False)
    _children: int = field(default=0, init=False)
    #: the test case its mocked Task states answer from (``mocking.py``), set at its start
    mocks: MockSession | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.start_time = format_timestamp(self.start_ms)

    @classmethod
    def begin(
        cls,
        ctx: Context,
        name: str,
        definition: Obj,
        input: JSON,
        options: MachineOptions | None = None,
        aws: AwsIdentity | None = None,
    ) -> Run:
        seed = int(ctx.random() * 2**53)  # drawn from the execution's deterministic source
        return cls(
            ctx, name, definition, input, _ms(ctx), random.Random(seed),
            options or MachineOptions(), aws or AwsIdentity(),
        )  # fmt: skip

    async def execute(self) -> JSON:
        """The machine's TimeoutSeconds is its execution's timeout (``register_state_machine``
        sets it): past it the execution ends TIMED_OUT with ``States.Timeout``, as in Step
        Functions, and no more states run."""
        language = cast(str, self.definition.get("QueryLanguage", "JSONPath"))
        scope = Scope(self.definition, {}, Cancel(), language=language)
        # 256 KiB quota: an input over it fails the execution (its first state named).
        limits.check_state_data(self.input, cast(str, self.definition["StartAt"]))
        return await self.run_scope(scope, self.input)

    def context_object(
        self, state: str, entered_ms: int, retries: int | None, item: Obj | None
    ) -> Obj:
        """ASL spec, "Context Object"; developer guide, "Accessing execution data from the
        Context object": ``Execution.Id`` and ``StateMachine.Id`` are ARNs, ``Execution.Name``
        the execution's id; ``Execution.RoleArn`` is the machine's role; ``RedriveCount`` is
        there in STANDARD executions only (EXPRESS ones cannot be redriven: developer guide,
        "Redriving executions"); ``State.RetryCount`` only where it is given (Task states)."""
        ctx = self.ctx
        execution: Obj = {
            "Id": self.aws.execution_arn(self.name, ctx.execution_id),
            "Input": self.input,
            "Name": ctx.execution_id,
            "RoleArn": self.options.role_arn,
            "StartTime": self.start_time,
        }
        if self.options.type == "STANDARD":
            execution["RedriveCount"] = ctx.redrive_count
        entered: Obj = {"EnteredTime": format_timestamp(entered_ms), "Name": state}
        if retries is not None:
            entered["RetryCount"] = retries
        obj: Obj = {
            "Execution": execution,
            "State": entered,
            "StateMachine": {"Id": self.aws.state_machine_arn(self.name), "Name": self.name},
        }
        if item is not None:
            obj["Map"] = {"Item": item}
        return obj

    def child_id(self, state: str) -> str:
        """An id for a child execution the definition does not name: deterministic (the
        interpreter starts children in the same order on every replay) and readable."""
        self._children += 1
        return f"{self.ctx.execution_id}/{state}/{self._children}"

    def _json(self, data: JSON, state: str, what: str) -> str:
        """A state's input or output as recorded JSON. A state's output is most often the next
        state's input, the very same object (the data flow never mutates a value): it is
        serialised once for both events."""
        if self._dumped is not None and self._dumped[0] is data:
            return self._dumped[1]
        text = codec.dumps(data, f"{what} of state {state!r}")
        self._dumped = (data, text)
        return text

    # --- the state loop -----------------------------------------------------------------------
    async def run_scope(self, scope: Scope, data: JSON) -> JSON:
        states = cast(Obj, scope.definition["States"])
        name: str | None = cast(str, scope.definition["StartAt"])
        while name is not None:
            scope.cancel.check()
            state = cast(Obj, states[name])
            ref = self.ctx.record_state(name, self._json(data, name, "input"), exited=False)
            entered_id = self.ctx.aws_event_id()
            try:
                name, data = await self.run_state(scope, name, state, data, entered_id)
            except StatesError as err:
                if err.cause_ref is None:  # the innermost state that failed: redrive enters it
                    err.cause_ref = ref
                raise
        return data

    async def run_state(
        self, scope: Scope, name: str, state: Obj, data: JSON, entered_id: int
    ) -> Outcome:
        kind = state["Type"]
        language = cast(str, state.get("QueryLanguage", scope.language))
        entered = _ms(self.ctx)

        def state_data(retries: int) -> StateData:
            # AWS sets $$.State.RetryCount in Task states only (not in Pass, Map, Parallel...).
            counted = retries if kind == "Task" else None
            context = self.context_object(name, entered, counted, scope.item)
            return StateData(
                name, state, data, context, scope.variables, self.rng, language == JSONATA
            )

        handler = _HANDLERS.get(cast(str, kind))
        if handler is None:
            raise StatesError(error_names.RUNTIME, f"state {name!r} has an unknown Type {kind!r}")

        async def located(sd: StateData) -> Outcome:
            try:
                return await handler(self, sd, scope)
            except StatesError as err:  # a runtime error's cause names the state (AWS's form)
                err.locate(name, entered_id)
                raise

        if kind in ("Task", "Parallel", "Map"):
            next_name, out, sd = await self.with_policies(state, state_data, located, scope)
        else:
            sd = state_data(0)
            next_name, out = await located(sd)
        scope.variables.update(sd.pending)
        text = self._json(out, name, "output")
        if limits.text_too_large(text):  # 256 KiB quota: terminal, no Catch applies
            raise limits.DataLimitExceeded(name, catchable=False)
        self.ctx.record_state(name, text, exited=True)
        return next_name, out

    async def with_policies(
        self,
        state: Obj,
        state_data: Callable[[int], StateData],
        attempt: Callable[[StateData], Awaitable[Outcome]],
        scope: Scope,
    ) -> tuple[str | None, JSON, StateData]:
        """ASL spec, "Error Handling": a failed attempt is retried by the first Retrier whose
        ErrorEquals matches (each Retrier counts its own attempts) after a durable timer;
        once none applies, the first matching Catcher moves on to its Next."""
        retriers = cast(list[JSON], state.get("Retry", []))
        catchers = cast(list[JSON], state.get("Catch", []))
        used = [0] * len(retriers)
        retries = 0
        while True:
            sd = state_data(retries)
            try:
                next_name, out = await attempt(sd)
                return next_name, out, sd
            except StatesError as err:
                if isinstance(err, limits.DataLimitExceeded) and not err.catchable:
                    raise
                i = policies.first_match(retriers, err.error)
                if i is not None:
                    retrier = cast(Obj, retriers[i])
                    if used[i] < policies.max_attempts(retrier):
                        delay = policies.retry_delay(retrier, used[i], self.rng)
                        used[i] += 1
                        retries += 1
                        await self.ctx.sleep(delay)
                        scope.cancel.check()
                        continue
                j = policies.first_match(catchers, err.error)
                if j is None:
                    raise
                catcher = cast(Obj, catchers[j])
                out = sd.caught(catcher, err)
                return cast(str, catcher["Next"]), out, sd


Handler = Callable[[Run, StateData, Scope], Awaitable[Outcome]]


def _ms(ctx: Context) -> int:
    return epoch_ms(ctx.now())


def _next(state: Obj) -> str | None:
    return None if state.get("End") is True else cast(str | None, state.get("Next"))


# --- the simple state types -----------------------------------------------------------------
async def _pass(run: Run, sd: StateData, scope: Scope) -> Outcome:
    """ASL spec, "Pass State": Result (or the effective input) becomes the state's result."""
    if sd.jsonata:
        return _next(sd.state), sd.output(sd.input, has_result=False)
    effective = sd.effective_input()
    result = sd.state["Result"] if "Result" in sd.state else sd.arguments(effective)
    limits.check_state_data(result, sd.name)
    return _next(sd.state), sd.output(result)


async def _wait(run: Run, sd: StateData, scope: Scope) -> Outcome:
    """ASL spec, "Wait State": Seconds, Timestamp, SecondsPath or TimestampPath; a durable
    timer, so the wait survives restarts. A timestamp in the past does not wait."""
    effective = sd.effective_input()
    seconds = sd.number("Seconds", effective)
    if seconds is None:
        stamp = sd.text("Timestamp", effective)
        moment = parse_timestamp(stamp)
        if moment is None:  # as Step Functions words it
            source = sd.state.get("TimestampPath", sd.state.get("Timestamp"))
            raise StatesError(
                error_names.RUNTIME,
                "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                f"offset date-time format string: {source} == {stamp}",
            )
        seconds = max(0.0, (epoch_ms(moment) - _ms(run.ctx)) / 1000)
    await run.ctx.sleep(seconds)
    scope.cancel.check()
    return _next(sd.state), sd.output(effective, has_result=False, effective=effective)


async def _choice(run: Run, sd: StateData, scope: Scope) -> Outcome:
    """ASL spec, "Choice State": the first matching Choice Rule names the next state, else
    Default, else the state fails with States.NoChoiceMatched."""
    from legato.core.asl import jsonata_query

    effective = sd.effective_input()
    for i, raw in enumerate(cast(list[JSON], sd.state.get("Choices", []))):
        rule = cast(Obj, raw)
        if sd.jsonata:
            matched = jsonata_query.evaluate_condition(
                rule.get("Condition"), {"input": sd.input, "context": sd.context},
                sd.variables, field=f"Choices[{i}]/Condition",
            )  # fmt: skip
        else:
            matched = choice.evaluate_rule(rule, effective, sd.context, sd.variables)
        if matched:
            return cast(str, rule["Next"]), sd.rule_output(rule, effective)
    if "Default" in sd.state:
        return cast(str, sd.state["Default"]), sd.rule_output({}, effective)
    raise StatesError(error_names.NO_CHOICE_MATCHED, f"no Choice Rule of state {sd.name!r} matched")


async def _succeed(run: Run, sd: StateData, scope: Scope) -> Outcome:
    """ASL spec, "Succeed State": ends the scope with the (filtered) input as output."""
    effective = sd.effective_input()
    return None, sd.output(effective, has_result=False, effective=effective)


async def _fail(run: Run, sd: StateData, scope: Scope) -> Outcome:
    """ASL spec, "Fail State": ends the scope with Error and Cause (or their Path forms)."""
    effective = sd.effective_input()
    error = sd.text("Error", effective)
    cause = sd.text("Cause", effective)
    raise reported(error or "", cause or "")


async def _task(run: Run, sd: StateData, scope: Scope) -> Outcome:
    from legato.engine.statemachine.task import run_task

    return await run_task(run, sd, scope)


async def _parallel(run: Run, sd: StateData, scope: Scope) -> Outcome:
    from legato.engine.statemachine.fanout import run_parallel

    return await run_parallel(run, sd, scope)


async def _map(run: Run, sd: StateData, scope: Scope) -> Outcome:
    from legato.engine.statemachine.fanout import run_map

    return await run_map(run, sd, scope)


_HANDLERS: dict[str, Handler] = {
    "Pass": _pass,
    "Wait": _wait,
    "Choice": _choice,
    "Succeed": _succeed,
    "Fail": _fail,
    "Task": _task,
    "Parallel": _parallel,
    "Map": _map,
}
