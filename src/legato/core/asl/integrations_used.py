"""Which service integrations a definition calls (``legato definitions validate --json``): a
team moving a definition to Legato sees at once what it needs configured (AWS endpoints and
credentials, HTTP connections) or mocked.

Task Resources of every scope (Parallel branches, Map processors) count, and a Distributed
Map's ``ItemReader`` and ``ResultWriter`` Resources. Registered steps, Lambda function ARNs
(run as registered steps), activities and ``legato:workflow:`` children are not integrations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from legato.core.asl.resources import (
    ChildExecution,
    HttpInvoke,
    Integration,
    LambdaInvoke,
    UnsupportedResource,
    parse_resource,
)
from legato.core.events import JSON

_CHILD = {"fire": "request", "sync": "sync", "sync2": "sync2", "token": "token"}


def integrations_used(definition: object) -> list[dict[str, JSON]]:
    """One entry per integration Resource, sorted by Resource: ``resource``, ``kind``
    (``aws-sdk``, ``optimized``, ``http``, ``item-reader``, ``result-writer``), ``service``,
    ``action``, ``pattern`` (``request``, ``sync``, ``sync2``, ``token``) and the ``states``
    that use it. Never raises: what cannot be read is skipped (``validate`` names it)."""
    found: dict[str, dict[str, JSON]] = {}
    for state_name, resource, role in _resources(definition):
        entry = _describe(resource, role)
        if entry is None:
            continue
        entry = found.setdefault(resource, entry)
        states = entry["states"]
        assert isinstance(states, list)
        if state_name not in states:
            states.append(state_name)
    return [found[resource] for resource in sorted(found)]


def _resources(scope: object) -> Iterator[tuple[str, str, str]]:
    """(state name, Resource, role) of every state in ``scope`` and its nested scopes."""
    if not isinstance(scope, Mapping) or not isinstance(scope.get("States"), Mapping):
        return
    for name, state in scope["States"].items():
        if not isinstance(state, Mapping):
            continue
        if state.get("Type") == "Task" and isinstance(state.get("Resource"), str):
            yield str(name), state["Resource"], "task"
        for field, role in (("ItemReader", "item-reader"), ("ResultWriter", "result-writer")):
            holder = state.get(field)
            if isinstance(holder, Mapping) and isinstance(holder.get("Resource"), str):
                yield str(name), holder["Resource"], role
        branches = state.get("Branches")
        for branch in branches if isinstance(branches, list) else []:
            yield from _resources(branch)
        for field in ("ItemProcessor", "Iterator"):
            yield from _resources(state.get(field))


def _describe(resource: str, role: str) -> dict[str, JSON] | None:
    try:
        parsed = parse_resource(resource)
    except UnsupportedResource:
        return None
    if isinstance(parsed, Integration):
        kind = "aws-sdk" if parsed.sdk else "optimized"
        service, action, pattern = parsed.service, parsed.action, str(parsed.pattern)
    elif isinstance(parsed, LambdaInvoke):
        kind, service, action = "optimized", "lambda", "invoke"
        pattern = "token" if parsed.wait_for_token else "request"
    elif isinstance(parsed, ChildExecution) and parsed.workflow is None:
        kind, service, action = "optimized", "states", "startExecution"
        pattern = _CHILD[parsed.mode]
    elif isinstance(parsed, HttpInvoke):
        kind, service, action = "http", "http", "invoke"
        pattern = "token" if parsed.wait_for_token else "request"
    else:
        return None
    if role != "task":
        kind = role
    return {
        "resource": resource,
        "kind": kind,
        "service": service,
        "action": action,
        "pattern": pattern,
        "states": [],
    }
