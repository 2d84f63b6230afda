"""What an EXPRESS state machine cannot run (developer guide, "Choosing workflow type in Step
Functions"): Express workflows integrate with services in the Request Response pattern only, so
a Task that waits for a job (``.sync``, ``.sync:2``) or for a task token
(``.waitForTaskToken``), or that hands work to an activity, is refused when the machine is
registered as EXPRESS, as CreateStateMachine refuses it, rather than run with a promise
Express cannot keep."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from legato.core.asl.resources import (
    Activity,
    ChildExecution,
    Integration,
    UnsupportedResource,
    parse_resource,
)
from legato.core.asl.validate_fields import Problem, key

#: how a Resource spells the patterns that wait (``ChildMode`` and ``IntegrationPattern``)
_SUFFIXES = {"sync": ".sync", "sync2": ".sync:2", "token": ".waitForTaskToken"}


def express_problems(
    definition: object, path: str = "$", what: str = "an EXPRESS state machine"
) -> list[Problem]:
    """One problem per Task, in every scope of ``definition`` (found at ``path``), that
    ``what`` cannot run: an EXPRESS machine, or a Distributed Map's EXPRESS child executions
    (``ProcessorConfig.ExecutionType``)."""
    problems: list[Problem] = []
    for at, resource in _task_resources(definition, path):
        why = _refusal(resource)
        if why is not None:
            problems.append(Problem(at, f"{what} cannot run {why}"))
    return problems


def _refusal(resource: str) -> str | None:
    try:
        parsed = parse_resource(resource)
    except UnsupportedResource:
        return None  # validation names it
    if isinstance(parsed, Activity):
        return "an activity (Express workflows support no activities)"
    if isinstance(parsed, ChildExecution):
        mode = _SUFFIXES.get(parsed.mode)
    elif isinstance(parsed, Integration):
        mode = _SUFFIXES.get(parsed.pattern)
    else:
        mode = ".waitForTaskToken" if parsed.wait_for_token else None
    if mode is None:
        return None
    return f"{resource!r}: Express workflows support the Request Response pattern only, not {mode}"


def _task_resources(scope: object, path: str) -> Iterator[tuple[str, str]]:
    """(JSON path of the Resource, Resource) of every Task in ``scope`` and its nested scopes."""
    if not isinstance(scope, Mapping) or not isinstance(scope.get("States"), Mapping):
        return
    states_path = key(path, "States")
    for name, state in scope["States"].items():
        if not isinstance(state, Mapping):
            continue
        at = key(states_path, str(name))
        if state.get("Type") == "Task" and isinstance(state.get("Resource"), str):
            yield key(at, "Resource"), state["Resource"]
        branches = state.get("Branches")
        for index, branch in enumerate(branches if isinstance(branches, list) else []):
            yield from _task_resources(branch, f"{key(at, 'Branches')}[{index}]")
        for field in ("ItemProcessor", "Iterator"):
            yield from _task_resources(state.get(field), key(at, field))
