"""Mocked Task states: Step Functions Local's mock configuration applied by the interpreter
(developer guide, "Using mocked service integrations for testing in Step Functions Local").

A state machine's execution runs one test case of the app's mock configuration
(``App.use_mocks``): the case of the machine's own name (a machine without it runs unmocked).
A Task state the case names returns its mocked response, or fails with it, instead of calling
anything: no step, no AWS call, no token wait (Step Functions Local makes up the task token of a
mocked ``.waitForTaskToken`` Task and does not wait; so does Legato). Its parameters are still
evaluated, so a bad path fails as it would for real, and the result goes through
ResultSelector, ResultPath, OutputPath and Assign like any Task's; a Throw is retried and
caught like any Task error. A Task the case does not name runs for real, as in Step Functions
Local (where it calls the service's endpoint).

Invocations are counted per state per execution, retries and Map iterations included, as Step
Functions Local counts them. A Map's iterations take their numbers in the order they reach the
state: by index when nothing waits (iteration i gets invocation i), and a retry takes the next
number when its timer fires, while the other iterations go on (Legato runs them concurrently;
with retries inside a Map the numbers may go to other iterations than in Step Functions
Local, which is reported to finish an iteration's retries first). The interpreter is replayed
workflow code, so the counts are rebuilt the same way on every replay, and nothing about a
mocked call is written to the history. The mocks are part of the code an execution runs: an
execution keeps the setting it began with in this process (``App.use_mocks`` again changes the
next executions' only), and an engine that resumes it elsewhere must use the same mocks, as it
must use the same definition.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from legato.core import codec, error_names
from legato.core.asl.errors import StatesError
from legato.core.asl.limits import check_task_result
from legato.core.asl.mock_config import (
    MockCase,
    MockConfig,
    MockThrow,
    case_problems,
    parse_mock_config,
)
from legato.core.asl.validate_fields import Problem
from legato.core.events import JSON
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.machine import Outcome, Run, Scope, _next
from legato.errors import ConfigurationError, InvalidMockConfigError

#: What ``App.use_mocks``, ``run_state_machine`` and ``legato run`` take as a configuration.
Mocks = MockConfig | Mapping[str, Any] | str | Path


@dataclass(frozen=True, slots=True)
class MockSetting:
    """An app's mocks: the configuration and the test case its executions run."""

    config: MockConfig
    test_case: str


#: The setting of the execution whose id it is given, asked when the execution begins (and
#: again when it is replayed): ``StateMachines.mock_setting``.
MockSource = Callable[[str], MockSetting | None]


@dataclass
class MockSession:
    """One execution's test case and how often each mocked state was invoked so far."""

    case: MockCase
    counts: dict[str, int] = field(default_factory=dict)

    def covers(self, state: str) -> bool:
        return state in self.case.states


def session_for(setting: MockSetting | None, machine: str) -> MockSession | None:
    if setting is None:
        return None
    case = setting.config.case(machine, setting.test_case)
    return None if case is None else MockSession(case)


def load_mock_config(mocks: Mocks) -> MockConfig:
    """A configuration given as a checked ``MockConfig``, a parsed dict, a path to a JSON file
    or JSON text; every problem raised together (``InvalidMockConfigError``)."""
    if isinstance(mocks, MockConfig):
        return mocks
    if isinstance(mocks, Mapping):
        return parse_mock_config(dict(mocks))
    text, source = str(mocks), "<mock config>"
    if isinstance(mocks, Path) or not text.lstrip().startswith("{"):
        source = str(mocks)
        try:
            text = Path(mocks).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"mock configuration {source}: cannot read it ({exc.strerror or exc})"
            ) from None
    try:
        data = codec.loads(text)
    except ValueError as exc:
        raise InvalidMockConfigError([Problem("$", f"not valid JSON: {exc}")], source) from None
    return parse_mock_config(data, source)


def mock_setting(mocks: Mocks | None, test_case: str | None) -> MockSetting | None:
    """``App.use_mocks``' argument checked: a test case that no state machine of the
    configuration has is an error now, not an execution that quietly calls real services."""
    if mocks is None:
        return None
    config = load_mock_config(mocks)
    if not test_case:
        raise ConfigurationError("mocks need a test case: name one of the configuration's")
    if not config.machines_with(test_case):
        raise InvalidMockConfigError(
            [Problem("$.StateMachines", f"no state machine has a test case {test_case!r}")],
            config.source,
        )
    return MockSetting(config, test_case)


def mocked_machine(
    setting: MockSetting, definition: Mapping[str, JSON], wanted: str | None, fallback: str
) -> str:
    """The name a mocked run of ``definition`` runs under (``run_state_machine``, ``legato
    run``): ``wanted`` if given; else ``fallback`` (the file's name) if the configuration has
    it; else the one state machine that has the test case. Its test case is checked against
    the definition: a state that is not one of its Task states is an error (a typo would
    otherwise call the real service)."""
    config = setting.config
    if wanted is not None:
        name = wanted
    elif fallback in config.machines:
        name = fallback
    else:
        having = config.machines_with(setting.test_case)
        name = having[0] if len(having) == 1 else fallback
    case = config.require_case(name, setting.test_case)
    problems = case_problems(case, definition)
    if problems:
        raise InvalidMockConfigError(problems, config.source)
    return name


async def run_mocked(run: Run, sd: StateData, scope: Scope, session: MockSession) -> Outcome:
    """A mocked Task: its invocation's response instead of any call (module docstring)."""
    invocation = session.counts.get(sd.name, 0)
    session.counts[sd.name] = invocation + 1
    mocked = session.case.states[sd.name]
    resource = cast(str, sd.state.get("Resource"))
    if resource.endswith(".waitForTaskToken"):  # a made-up token: no callback is awaited
        token = f"mock:{run.ctx.execution_id}:{sd.name}:{invocation}"
        sd.context["Task"] = {"Token": token}
    sd.arguments(sd.effective_input())  # evaluated as for a real call: its errors are real
    response = mocked.at(invocation)
    if response is None:
        raise StatesError(
            error_names.RUNTIME,
            f"mocked response {mocked.name!r} (test case {session.case.name!r}) has no answer "
            f"for invocation {invocation} of state {sd.name!r}: it covers "
            f"{mocked.invocations} invocation(s), counted from 0 per execution",
        )
    if isinstance(response, MockThrow):
        err = StatesError(
            response.error, response.cause or "", has_cause=response.cause is not None
        )
        err.located = True  # reported as the mock words it, like a task's own error
        raise err
    result = copy.deepcopy(response.value)  # the configuration's value stays untouched
    scope.cancel.check()
    check_task_result(result, resource)  # 256 KiB quota, as for a real result
    return _next(sd.state), sd.output(result)
