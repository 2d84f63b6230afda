"""Validation of Amazon States Language definitions (ASL spec, "Structure of a State Machine",
"States", "Transitions"; AWS Step Functions developer guide, "State machine structure").

:func:`validate` returns every problem of a definition, each with the JSON path of the field and
the rule it breaks, sorted by path; :func:`check` raises them together as
:class:`~legato.errors.InvalidDefinitionError`. Neither raises anything else, whatever it is
given. The state machine and each Parallel branch and Map processor are scopes: each has its own
``StartAt`` and ``States``, transitions stay inside their scope, and every state of a scope must
be reachable from its ``StartAt``. State names are unique across the whole state machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from legato.core.asl.express import express_problems
from legato.core.asl.sdk_catalog import SdkCatalog
from legato.core.asl.validate_fields import (
    JSONATA,
    JSONPATH,
    Ctx,
    Problem,
    check_int,
    check_string,
    check_unknown,
    key,
)
from legato.core.asl.validate_states import check_state
from legato.errors import InvalidDefinitionError

__all__ = ["Problem", "check", "count_states", "validate"]

MAX_NAME_LENGTH = 80

_SCOPE_FIELDS = {
    "machine": ("Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"),
    "branch": ("Comment", "StartAt", "States"),
    "processor": ("Comment", "StartAt", "States", "ProcessorConfig"),
    # AWS accepts ProcessorConfig in the legacy Iterator too ("Map state", "Iterator").
    "iterator": ("Comment", "StartAt", "States", "ProcessorConfig"),
}
_SCOPE_LABELS = {
    "machine": "the state machine",
    "branch": "this Parallel branch",
    "processor": "this Map ItemProcessor",
    "iterator": "this Map Iterator",
}
_PROCESSOR_CONFIG = {"Mode": ("INLINE", "DISTRIBUTED"), "ExecutionType": ("STANDARD", "EXPRESS")}


def validate(definition: object, sdk: SdkCatalog | None = None) -> list[Problem]:
    """Every problem of ``definition`` (a parsed JSON value), sorted by path; empty if valid.
    ``sdk`` checks the services and actions of ``aws-sdk`` Resources (their shape only
    without it)."""
    ctx = Ctx(sdk=sdk)
    try:
        _check_machine(ctx, definition)
    except RecursionError:
        ctx.add("$", "the definition is nested too deeply to validate")
    unique = dict.fromkeys(ctx.problems)
    return sorted(unique, key=lambda p: (_natural(p.path), p.rule))


def check(definition: object, source: str | None = None, sdk: SdkCatalog | None = None) -> None:
    """Raise :class:`InvalidDefinitionError` listing every problem, if there is any."""
    problems = validate(definition, sdk)
    if problems:
        raise InvalidDefinitionError(problems, source)


def count_states(definition: object) -> int:
    """How many states the definition has, nested ones included."""
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        return 0
    total = 0
    for state in definition["States"].values():
        total += 1
        if not isinstance(state, dict):
            continue
        branches = state.get("Branches")
        for scope in [*(branches if isinstance(branches, list) else [])]:
            total += count_states(scope)
        for name in ("ItemProcessor", "Iterator"):
            total += count_states(state.get(name))
    return total


def _natural(path: str) -> list[tuple[int, str]]:
    """Sort key that orders ``[2]`` before ``[10]``. The digit runs are the split's odd parts
    (``str.isdigit`` would also take a lone "²", which is no number)."""
    parts = re.split(r"(\d+)", path)
    return [(int(part), "") if i % 2 else (-1, part) for i, part in enumerate(parts)]


def _check_machine(ctx: Ctx, definition: object) -> None:
    if not isinstance(definition, dict):
        ctx.add("$", "a state machine definition must be a JSON object")
        return
    if "QueryLanguage" in definition:
        if definition["QueryLanguage"] in (JSONPATH, JSONATA):
            ctx.top_language = str(definition["QueryLanguage"])
        else:
            ctx.add("$.QueryLanguage", "QueryLanguage must be JSONPath or JSONata")
    check_int(ctx, definition, "$", "TimeoutSeconds", 1)
    check_string(ctx, definition, "$", "Version")
    _check_scope(ctx, definition, "$", "machine")


def _check_scope(ctx: Ctx, scope: object, path: str, kind: str) -> None:
    """StartAt, States, transitions and reachability of one scope, then its nested scopes."""
    if not isinstance(scope, dict):
        ctx.add(path, "must be a JSON object with StartAt and States")
        return
    check_unknown(ctx, scope, path, _SCOPE_FIELDS[kind], _SCOPE_LABELS[kind])
    check_string(ctx, scope, path, "Comment")
    if kind in ("processor", "iterator"):
        _check_processor_config(ctx, scope, path)
    states_path = key(path, "States")
    states = scope.get("States")
    if "States" not in scope:
        ctx.add(states_path, "States is required")
    elif not isinstance(states, dict) or not states:
        ctx.add(states_path, "States must be a non-empty JSON object of states")
    names: Mapping[str, object] = states if isinstance(states, dict) else {}
    start = _check_start_at(ctx, scope, path, names)
    edges: dict[str, list[str]] = {}
    nested: list[tuple[object, str, str]] = []
    for name, state in names.items():
        state_path = key(states_path, name)
        _check_name(ctx, name, state_path)
        info = check_state(ctx, state, state_path)
        edges[name] = []
        for target, field_path in info.transitions:
            if target in names:
                edges[name].append(target)
            else:
                ctx.add(field_path, f"{target!r} is not a state of {_SCOPE_LABELS[kind]}")
        nested += info.scopes
    if start is not None:
        for name in sorted(set(names) - _reachable(start, edges)):
            ctx.add(key(states_path, name), f"state {name!r} is unreachable from StartAt")
    for inner, inner_path, inner_kind in nested:
        _check_scope(ctx, inner, inner_path, inner_kind)


def _check_start_at(
    ctx: Ctx, scope: Mapping[str, object], path: str, names: Mapping[str, object]
) -> str | None:
    at = key(path, "StartAt")
    start = scope.get("StartAt")
    if "StartAt" not in scope:
        ctx.add(at, "StartAt is required")
    elif not isinstance(start, str):
        ctx.add(at, "StartAt must be a state name")
    elif start not in names:
        if names:
            ctx.add(at, f"StartAt {start!r} does not name a state in States")
    else:
        return start
    return None


def _check_name(ctx: Ctx, name: str, path: str) -> None:
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        ctx.add(path, f"a state name must be 1 to {MAX_NAME_LENGTH} characters long")
    first = ctx.names.setdefault(name, path)
    if first != path:
        ctx.add(path, f"state name {name!r} is already used at {first}")


def _check_processor_config(ctx: Ctx, scope: Mapping[str, object], path: str) -> None:
    if "ProcessorConfig" not in scope:
        return
    at = key(path, "ProcessorConfig")
    config = scope["ProcessorConfig"]
    if not isinstance(config, dict):
        ctx.add(at, "ProcessorConfig must be a JSON object")
        return
    check_unknown(ctx, config, at, _PROCESSOR_CONFIG, "ProcessorConfig")
    for name, values in _PROCESSOR_CONFIG.items():
        if name in config and config[name] not in values:
            ctx.add(key(at, name), f"{name} must be {' or '.join(values)}")
    if config.get("ExecutionType") == "EXPRESS":  # its child executions are Express workflows
        for problem in express_problems(scope, path, "an EXPRESS child execution"):
            ctx.add(problem.path, problem.rule)


def _reachable(start: str, edges: Mapping[str, list[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen
