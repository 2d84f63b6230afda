"""The mock configuration of AWS Step Functions Local ("Using mocked service integrations for
testing in Step Functions Local"; "Configuration file for mocked service integrations"), read and
checked, so that teams keep the ``MockConfigFile.json`` they have.

The file has two fields::

    StateMachines:   machine name -> {"TestCases": {case name -> {state name -> response name}}}
    MockedResponses: response name -> {"0": R, "1-2": R, ...}
                     R = {"Return": any JSON} | {"Throw": {"Error": str, "Cause": str}}

A test case maps Task states to mocked responses. A response's keys count the state's
invocations in one execution from 0, retries included ("1-2": the second and third); each
gives what the Task returns instead of calling anything (its raw result, before
ResultSelector/ResultPath) or the error it fails with. Ranges may not overlap; an invocation
no key covers is the engine's to report (it fails the execution, ``States.Runtime``).

Pure: :func:`parse_mock_config` reads a parsed JSON value and raises
:class:`~legato.errors.InvalidMockConfigError` listing every problem with its JSON path;
:func:`case_problems` checks a test case against the definition it drives.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from legato.core.asl.validate_fields import Problem, key
from legato.core.events import JSON
from legato.errors import InvalidMockConfigError

__all__ = [
    "MockCase",
    "MockConfig",
    "MockReturn",
    "MockThrow",
    "MockedResponse",
    "case_problems",
    "parse_mock_config",
    "task_states",
]

_TOP = ("StateMachines", "MockedResponses")
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


@dataclass(frozen=True, slots=True)
class MockReturn:
    """The mocked Task succeeds with ``value`` as its result."""

    value: JSON


@dataclass(frozen=True, slots=True)
class MockThrow:
    """The mocked Task fails with ``error``; ``cause`` None: the error output has no Cause."""

    error: str
    cause: str | None


Response = MockReturn | MockThrow


@dataclass(frozen=True, slots=True)
class MockedResponse:
    """One entry of ``MockedResponses``: ``(first, last, response)`` by invocation, sorted."""

    name: str
    ranges: tuple[tuple[int, int, Response], ...]

    def at(self, invocation: int) -> Response | None:
        """The response to the state's ``invocation`` (0-based); None when no key covers it."""
        for first, last, response in self.ranges:
            if first <= invocation <= last:
                return response
        return None

    @property
    def invocations(self) -> int:
        """How many invocations the keys cover (the first one past them: ``at`` gives None)."""
        return self.ranges[-1][1] + 1 if self.ranges else 0


@dataclass(frozen=True, slots=True)
class MockCase:
    """One test case of one state machine: its mocked states and their responses."""

    machine: str
    name: str
    states: Mapping[str, MockedResponse]


@dataclass(frozen=True, slots=True)
class MockConfig:
    """A checked mock configuration (:func:`parse_mock_config`)."""

    #: machine -> test case -> state -> response name
    machines: Mapping[str, Mapping[str, Mapping[str, str]]]
    responses: Mapping[str, MockedResponse]
    source: str = "<mock config>"

    def case(self, machine: str, test_case: str) -> MockCase | None:
        """``test_case`` of ``machine``; None when the configuration has no such pair."""
        states = self.machines.get(machine, {}).get(test_case)
        if states is None:
            return None
        mocked = {state: self.responses[name] for state, name in states.items()}
        return MockCase(machine, test_case, mocked)

    def require_case(self, machine: str, test_case: str) -> MockCase:
        """``test_case`` of ``machine``, or an error that names what the file has."""
        case = self.case(machine, test_case)
        if case is not None:
            return case
        if machine not in self.machines:
            raise InvalidMockConfigError(
                [
                    Problem(
                        key("$.StateMachines", machine),
                        f"no state machine {machine!r} here{_have(self.machines, machine)}",
                    )
                ],
                self.source,
            )
        cases = self.machines[machine]
        path = key(key(key("$.StateMachines", machine), "TestCases"), test_case)
        raise InvalidMockConfigError(
            [Problem(path, f"no test case {test_case!r} here{_have(cases, test_case)}")],
            self.source,
        )

    def machines_with(self, test_case: str) -> list[str]:
        return sorted(m for m, cases in self.machines.items() if test_case in cases)


def parse_mock_config(data: object, source: str = "<mock config>") -> MockConfig:
    """``data`` (parsed JSON) as a :class:`MockConfig`; every problem raised together."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        problems.append(Problem("$", "a mock configuration is a JSON object"))
        raise InvalidMockConfigError(problems, source)
    for field in data:
        if field not in _TOP:
            problems.append(Problem(key("$", str(field)), f"unknown field{_near(field, _TOP)}"))
    responses = _responses(data.get("MockedResponses"), problems)
    machines = _machines(data.get("StateMachines"), set(responses), problems)
    if problems:
        raise InvalidMockConfigError(sorted(problems, key=lambda p: p.path), source)
    return MockConfig(machines, responses, source)


def _machines(
    raw: object, responses: set[str], problems: list[Problem]
) -> dict[str, dict[str, dict[str, str]]]:
    path = "$.StateMachines"
    if raw is None:
        problems.append(Problem(path, "required: the state machines and their test cases"))
        return {}
    if not isinstance(raw, dict):
        problems.append(Problem(path, "must be an object: state machine name -> {TestCases}"))
        return {}
    machines: dict[str, dict[str, dict[str, str]]] = {}
    for machine, body in raw.items():
        at = key(path, machine)
        if not isinstance(body, dict):
            problems.append(Problem(at, 'must be an object with "TestCases"'))
            continue
        for field in body:
            if field != "TestCases":
                problems.append(
                    Problem(key(at, field), f"unknown field{_near(field, ['TestCases'])}")
                )
        cases = body.get("TestCases")
        if not isinstance(cases, dict):
            problems.append(
                Problem(
                    key(at, "TestCases"), "required: an object, test case name -> {state: response}"
                )
            )
            continue
        machines[machine] = {
            case: _test_case(states, key(key(at, "TestCases"), case), responses, problems)
            for case, states in cases.items()
        }
    return machines


def _test_case(
    states: object, at: str, responses: set[str], problems: list[Problem]
) -> dict[str, str]:
    """One test case: state name -> the name of a mocked response that exists."""
    if not isinstance(states, dict):
        problems.append(Problem(at, "must be an object: state name -> mocked response name"))
        return {}
    mapped: dict[str, str] = {}
    for state, name in states.items():
        if not isinstance(name, str):
            problems.append(Problem(key(at, state), "must be the name of a mocked response"))
        elif name not in responses:
            rule = f"no mocked response {name!r} in MockedResponses{_near(name, responses)}"
            problems.append(Problem(key(at, state), rule))
        else:
            mapped[state] = name
    return mapped


def _responses(raw: object, problems: list[Problem]) -> dict[str, MockedResponse]:
    path = "$.MockedResponses"
    if raw is None:
        problems.append(Problem(path, "required: the mocked responses the test cases name"))
        return {}
    if not isinstance(raw, dict):
        problems.append(Problem(path, 'must be an object: response name -> {"0": ..., "1-2": ...}'))
        return {}
    responses: dict[str, MockedResponse] = {}
    for name, body in raw.items():
        at = key(path, name)
        if not isinstance(body, dict) or not body:
            problems.append(
                Problem(
                    at,
                    'must be a non-empty object: invocations ("0", "1-2") -> {Return} or {Throw}',
                )
            )
            responses[name] = MockedResponse(name, ())
            continue
        ranges: list[tuple[int, int, Response]] = []
        for invocations, entry in body.items():
            span = _span(invocations)
            if span is None:
                problems.append(
                    Problem(
                        key(at, invocations),
                        'invocations are a number or a range, "0" or "1-2" '
                        "(counted from 0, first <= last)",
                    )
                )
                continue
            response = _response(entry, key(at, invocations), problems)
            if response is not None:
                ranges.append((span[0], span[1], response))
        ranges.sort(key=lambda r: r[0])
        for (a_first, a_last, _), (b_first, b_last, _) in zip(ranges, ranges[1:], strict=False):
            if b_first <= a_last:
                problems.append(
                    Problem(
                        at,
                        f"invocations {_label(a_first, a_last)} and "
                        f"{_label(b_first, b_last)} overlap",
                    )
                )
        responses[name] = MockedResponse(name, tuple(ranges))
    return responses


def _span(text: object) -> tuple[int, int] | None:
    if not isinstance(text, str):  # a caller's dict may have other keys than JSON's strings
        return None
    match = _RANGE.match(text)
    if match is None:
        return None
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    return (first, last) if first <= last else None


def _response(entry: object, at: str, problems: list[Problem]) -> Response | None:
    if not isinstance(entry, dict) or len(entry) != 1 or not {"Return", "Throw"} & set(entry):
        problems.append(
            Problem(
                at,
                'must be an object with exactly one of "Return" (the '
                'result) or "Throw" ({"Error", "Cause"})',
            )
        )
        return None
    if "Return" in entry:
        return MockReturn(cast(JSON, entry["Return"]))
    throw = entry["Throw"]
    where = key(at, "Throw")
    if not isinstance(throw, dict):
        problems.append(Problem(where, 'must be an object: {"Error": name, "Cause": text}'))
        return None
    ok = True
    for field in throw:
        if field not in ("Error", "Cause"):
            problems.append(
                Problem(key(where, field), f"unknown field{_near(field, ['Error', 'Cause'])}")
            )
            ok = False
    error, cause = throw.get("Error"), throw.get("Cause")
    if not isinstance(error, str) or not error:
        problems.append(
            Problem(key(where, "Error"), "required: the error name (a non-empty string)")
        )
        ok = False
    if cause is not None and not isinstance(cause, str):
        problems.append(Problem(key(where, "Cause"), "must be a string"))
        ok = False
    return MockThrow(cast(str, error), cast(str | None, cause)) if ok else None


def task_states(definition: Mapping[str, JSON]) -> dict[str, str]:
    """Every state of ``definition`` with its Type, nested ones (Parallel branches, Map
    processors) included: state names are unique across a whole state machine."""
    found: dict[str, str] = {}

    def walk(scope: object) -> None:
        states = scope.get("States") if isinstance(scope, dict) else None
        if not isinstance(states, dict):
            return
        for name, state in states.items():
            if not isinstance(state, dict):
                continue
            found[name] = str(state.get("Type"))
            for branch in state.get("Branches") or []:
                walk(branch)
            walk(state.get("ItemProcessor"))
            walk(state.get("Iterator"))

    walk(definition)
    return found


def case_problems(case: MockCase, definition: Mapping[str, JSON]) -> list[Problem]:
    """A test case's states that the definition does not have as Task states: a typo there
    would silently call the real service, so it is an error where the definition is known."""
    states = task_states(definition)
    tasks = [name for name, kind in states.items() if kind == "Task"]
    at = key(key(key("$.StateMachines", case.machine), "TestCases"), case.name)
    problems = []
    for state in case.states:
        kind = states.get(state)
        if kind is None:
            rule = f"the state machine has no state {state!r}{_near(state, tasks, 'Task states')}"
        elif kind != "Task":
            rule = f"state {state!r} is a {kind} state: only Task states are mocked"
        else:
            continue
        problems.append(Problem(key(at, state), rule))
    return problems


def _label(first: int, last: int) -> str:
    return f'"{first}"' if first == last else f'"{first}-{last}"'


def _near(name: object, known: Iterable[str], what: str = "") -> str:
    """`` (did you mean 'X'?)`` for the nearest known name, or the list when it is short."""
    names = sorted(known)
    close = difflib.get_close_matches(str(name), names, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if names and len(names) <= 8 and what:
        return f" ({what}: {', '.join(names)})"
    return ""


def _have(known: Mapping[str, object], name: str) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (it has: {', '.join(names)})" if names else " (it has none)"
