"""Validation of one state by its type and query language (ASL spec, "State Types" and the
sections of each type; AWS Step Functions developer guide, the Pass, Task, Choice, Wait, Succeed,
Fail, Parallel and Map state pages, "Transforming data with JSONata").

:func:`check_state` returns what the enclosing scope needs to finish the job: the transitions
the state makes and the nested scopes (Parallel branches, Map processors) to validate in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from legato.core.asl import validate_syntax as syntax
from legato.core.asl.optimized_shapes import resource_problem
from legato.core.asl.resources import (
    ChildExecution,
    HttpInvoke,
    Integration,
    LambdaInvoke,
    UnsupportedResource,
    parse_resource,
)
from legato.core.asl.validate_choice import check_choices
from legato.core.asl.validate_fields import (
    JSONATA,
    JSONPATH,
    Ctx,
    check_assign,
    check_exclusive,
    check_int,
    check_jsonata_strings,
    check_object,
    check_path,
    check_string,
    check_template,
    index,
    is_int,
    is_number,
    is_timestamp,
    jsonata_expression,
    key,
)
from legato.core.asl.validate_http import check_http_task
from legato.core.asl.validate_items import check_items
from legato.core.asl.validate_retry_catch import check_catch, check_retry

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_COMMON = ("Type", "Comment", "QueryLanguage")
_FLOW = ("Next", "End")
_IO = ("InputPath", "OutputPath")
_TOLERATED = (
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
)
_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(_COMMON + fields)
    for name, fields in {
        "Pass": (*_FLOW, *_IO, "Parameters", "ResultPath", "Result", "Assign", "Output"),
        "Task": (
            *_FLOW, *_IO, "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch",
            "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
            "HeartbeatSecondsPath", "Credentials", "Arguments", "Output", "Assign",
        ),
        "Choice": ("Choices", "Default", *_IO, "Assign", "Output"),
        "Wait": (
            *_FLOW, *_IO, "Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign",
            "Output",
        ),
        "Succeed": (*_IO, "Output"),
        "Fail": ("Error", "ErrorPath", "Cause", "CausePath"),
        "Parallel": (
            *_FLOW, *_IO, "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch",
            "Branches", "Arguments", "Output", "Assign",
        ),
        "Map": (
            *_FLOW, *_IO, "Parameters", "ItemSelector", "ResultSelector", "ResultPath", "Retry",
            "Catch", "ItemProcessor", "Iterator", "ItemsPath", "Items", "MaxConcurrency",
            "MaxConcurrencyPath", *_TOLERATED, "ItemBatcher", "ItemReader", "ResultWriter",
            "Label", "Output", "Assign",
        ),
    }.items()
}  # fmt: skip
#: JSONPath-only fields, with what a JSONata state uses instead.
_JSONPATH_ONLY = {
    "InputPath": "$states.input in Arguments or Output",
    "OutputPath": "Output",
    "Parameters": "Arguments (Task, Parallel) or ItemSelector (Map)",
    "ResultSelector": "Output",
    "ResultPath": "Output or Assign",
    "Result": "Output",
    "TimeoutSecondsPath": "TimeoutSeconds with a JSONata expression",
    "HeartbeatSecondsPath": "HeartbeatSeconds with a JSONata expression",
    "SecondsPath": "Seconds with a JSONata expression",
    "TimestampPath": "Timestamp with a JSONata expression",
    "ItemsPath": "Items",
    "MaxConcurrencyPath": "MaxConcurrency with a JSONata expression",
    "ToleratedFailureCountPath": "ToleratedFailureCount with a JSONata expression",
    "ToleratedFailurePercentagePath": "ToleratedFailurePercentage with a JSONata expression",
    "ErrorPath": "Error with a JSONata expression",
    "CausePath": "Cause with a JSONata expression",
}
_JSONATA_ONLY = frozenset({"Arguments", "Output", "Items"})
_NOT_JSONATA_TEXT = frozenset({"Comment", "Branches", "ItemProcessor", "Iterator"})
_MAX_BATCH_BYTES = 262_144


@dataclass
class StateInfo:
    """The transitions of a state as (state name, path of the field naming it), and its nested
    scopes as (definition, path, kind) with kind ``branch``, ``processor`` or ``iterator``."""

    transitions: list[tuple[str, str]] = field(default_factory=list)
    scopes: list[tuple[object, str, str]] = field(default_factory=list)


def check_state(ctx: Ctx, state: object, path: str) -> StateInfo:
    """Every problem of one state; never raises."""
    info = StateInfo()
    if not isinstance(state, dict):
        ctx.add(path, "a state must be a JSON object")
        return info
    if isinstance(state.get("Next"), str):
        info.transitions.append((state["Next"], key(path, "Next")))
    kind = state.get("Type")
    if "Type" not in state:
        ctx.add(key(path, "Type"), "Type is required")
        return info
    if not isinstance(kind, str) or kind not in STATE_TYPES:
        ctx.add(key(path, "Type"), f"Type must be one of {', '.join(STATE_TYPES)}")
        return info
    language = _language(ctx, state, path)
    fields = _allowed_fields(ctx, state, path, kind, language)
    check_string(ctx, fields, path, "Comment")
    check_assign(ctx, fields, path, language)
    if language == JSONATA:
        for name, value in fields.items():
            if name not in _NOT_JSONATA_TEXT:
                check_jsonata_strings(ctx, value, key(path, name))
    else:
        check_path(ctx, fields, path, "InputPath", reference=False, nullable=True)
        check_path(ctx, fields, path, "OutputPath", reference=False, nullable=True)
        check_path(ctx, fields, path, "ResultPath", reference=True, nullable=True)
        for name in ("Parameters", "ResultSelector"):
            if name in fields:
                check_template(ctx, fields[name], key(path, name), name)
    if kind in ("Pass", "Task", "Wait", "Parallel", "Map"):
        check_exclusive(ctx, state, path, _FLOW, required=True)
        if "End" in state and state["End"] is not True:
            ctx.add(key(path, "End"), "End must be true")
        if "Next" in state and not isinstance(state["Next"], str):
            ctx.add(key(path, "Next"), "Next must be a state name")
    if kind in ("Task", "Parallel", "Map"):
        check_retry(ctx, state, path)
        info.transitions += check_catch(ctx, state, path, language)
    if kind == "Task":
        _check_task(ctx, fields, path, language)
    elif kind == "Choice":
        info.transitions += check_choices(ctx, state, path, language)
        default = state.get("Default")
        if isinstance(default, str):
            info.transitions.append((default, key(path, "Default")))
        elif "Default" in state:
            ctx.add(key(path, "Default"), "Default must be a state name")
    elif kind == "Wait":
        _check_wait(ctx, state, fields, path, language)
    elif kind == "Fail":
        _check_fail(ctx, fields, path)
    elif kind == "Parallel":
        _check_parallel(ctx, fields, path, language, info)
    elif kind == "Map":
        _check_map(ctx, fields, path, language, info)
    return info


def _language(ctx: Ctx, state: Mapping[str, object], path: str) -> str:
    """The state's query language: its own QueryLanguage, else the state machine's."""
    if "QueryLanguage" not in state:
        return ctx.top_language
    value = state["QueryLanguage"]
    at = key(path, "QueryLanguage")
    if value not in (JSONPATH, JSONATA):
        ctx.add(at, "QueryLanguage must be JSONPath or JSONata")
        return ctx.top_language
    if value == JSONPATH and ctx.top_language == JSONATA:
        ctx.add(at, "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata")
    return str(value)


def _allowed_fields(
    ctx: Ctx, state: Mapping[str, object], path: str, kind: str, language: str
) -> dict[str, object]:
    """The fields this state type allows in this language; a problem for each other field."""
    allowed: dict[str, object] = {}
    for name, value in state.items():
        at = key(path, name)
        if name not in _FIELDS[kind]:
            if kind == "Choice" and name == "End":
                ctx.add(at, "a Choice state cannot end the execution; Choices and Default do")
            elif kind == "Choice" and name == "Next":
                ctx.add(at, "a Choice state has no Next; its rules and Default name the next state")
            elif kind in ("Succeed", "Fail") and name in _FLOW:
                ctx.add(at, f"a {kind} state is terminal: {name} is not allowed")
            else:
                ctx.add(at, f"field {name} is not allowed in a {kind} state")
        elif language == JSONATA and name in _JSONPATH_ONLY:
            ctx.add(at, f"{name} is not allowed in JSONata states; use {_JSONPATH_ONLY[name]}")
        elif language == JSONPATH and name in _JSONATA_ONLY:
            ctx.add(at, f"{name} is only allowed in JSONata states")
        else:
            allowed[name] = value
    return allowed


def _check_task(ctx: Ctx, fields: Mapping[str, object], path: str, language: str) -> None:
    at = key(path, "Resource")
    resource = fields.get("Resource")
    if "Resource" not in fields:
        ctx.add(at, "Resource is required in a Task state")
    elif not isinstance(resource, str):
        ctx.add(at, "Resource must be a string")
    else:
        try:
            parsed = parse_resource(resource)
        except UnsupportedResource as exc:
            ctx.add(at, str(exc))
        else:
            optimized = resource_problem(parsed)  # an optimized action or pattern Legato lacks
            if optimized is not None:
                ctx.add(at, optimized)
            if isinstance(parsed, LambdaInvoke):
                _require_argument(ctx, fields, path, language, "FunctionName", resource)
            elif isinstance(parsed, ChildExecution) and parsed.workflow is None:
                _require_argument(ctx, fields, path, language, "StateMachineArn", resource)
            elif isinstance(parsed, HttpInvoke):
                check_http_task(ctx, fields, path, language)
            elif isinstance(parsed, Integration) and parsed.sdk:
                _check_sdk(ctx, parsed, at)
    if language == JSONATA and "Arguments" in fields:
        arguments = fields["Arguments"]
        if not isinstance(arguments, dict) and jsonata_expression(arguments) is None:
            ctx.add(
                key(path, "Arguments"), "Arguments must be a JSON object or a JSONata expression"
            )
    for name in ("TimeoutSeconds", "HeartbeatSeconds"):
        check_exclusive(ctx, fields, path, (name, name + "Path"), required=False)
        check_int(ctx, fields, path, name, 1, language=language)
        check_path(ctx, fields, path, name + "Path", reference=True, nullable=False)
    timeout, heartbeat = fields.get("TimeoutSeconds"), fields.get("HeartbeatSeconds")
    if is_int(timeout) and is_int(heartbeat) and heartbeat >= timeout:  # type: ignore[operator]
        ctx.add(key(path, "HeartbeatSeconds"), "HeartbeatSeconds must be less than TimeoutSeconds")
    check_object(ctx, fields, path, "Credentials")


def _check_sdk(ctx: Ctx, resource: Integration, at: str) -> None:
    """An ``aws-sdk`` call waits for its answer or a task token; its service and action exist
    (developer guide, "Learning to use AWS service SDK integrations")."""
    if resource.pattern in ("sync", "sync2"):
        ctx.add(at, "aws-sdk integrations support request-response and .waitForTaskToken only")
    problem = ctx.sdk.problem(resource.service, resource.action) if ctx.sdk else None
    if problem is not None:
        ctx.add(at, problem)


def _require_argument(
    ctx: Ctx, fields: Mapping[str, object], path: str, language: str, name: str, resource: str
) -> None:
    """The integration reads ``name`` from Parameters (JSONPath) or Arguments (JSONata)."""
    holder = "Arguments" if language == JSONATA else "Parameters"
    value = fields.get(holder)
    if jsonata_expression(value) is not None:
        return
    if not isinstance(value, dict) or (name not in value and name + ".$" not in value):
        ctx.add(key(path, holder), f"{resource} needs {name} in {holder}")


def _check_wait(
    ctx: Ctx, state: Mapping[str, object], fields: Mapping[str, object], path: str, language: str
) -> None:
    """The wait is given exactly one way, whether or not the language allows that way."""
    names = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
    check_exclusive(ctx, state, path, names, required=True)
    check_int(ctx, fields, path, "Seconds", 0, language=language)
    if "Timestamp" in fields:
        value = fields["Timestamp"]
        if not is_timestamp(value) and not (
            language == JSONATA and jsonata_expression(value) is not None
        ):
            ctx.add(
                key(path, "Timestamp"),
                "Timestamp must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z",
            )
    check_path(ctx, fields, path, "SecondsPath", reference=True, nullable=False)
    check_path(ctx, fields, path, "TimestampPath", reference=True, nullable=False)


def _check_fail(ctx: Ctx, fields: Mapping[str, object], path: str) -> None:
    for name in ("Error", "Cause"):
        check_exclusive(ctx, fields, path, (name, name + "Path"), required=False)
        check_string(ctx, fields, path, name)
        at = key(path, name + "Path")
        value = fields.get(name + "Path")
        if name + "Path" not in fields:
            continue
        if isinstance(value, str) and value.startswith("States."):
            problem = syntax.intrinsic_problem(value)
            if problem:
                ctx.add(at, f"{name}Path: {problem}")
        elif not (isinstance(value, str) and syntax.is_reference_path(value)):
            ctx.add(at, f"{name}Path must be a Reference Path or an intrinsic function")


def _check_parallel(
    ctx: Ctx, fields: Mapping[str, object], path: str, language: str, info: StateInfo
) -> None:
    at = key(path, "Branches")
    branches = fields.get("Branches")
    if "Branches" not in fields:
        ctx.add(at, "Branches is required in a Parallel state")
    elif not isinstance(branches, list) or not branches:
        ctx.add(at, "Branches must be a non-empty array of state machines")
    else:
        info.scopes += [(b, index(at, i), "branch") for i, b in enumerate(branches)]
    if language == JSONATA and "Arguments" in fields:
        arguments = fields["Arguments"]
        if not isinstance(arguments, dict) and jsonata_expression(arguments) is None:
            ctx.add(
                key(path, "Arguments"), "Arguments must be a JSON object or a JSONata expression"
            )


def _check_map(
    ctx: Ctx, fields: Mapping[str, object], path: str, language: str, info: StateInfo
) -> None:
    check_exclusive(ctx, fields, path, ("ItemProcessor", "Iterator"), required=True)
    for name, kind in (("ItemProcessor", "processor"), ("Iterator", "iterator")):
        if name in fields:
            info.scopes.append((fields[name], key(path, name), kind))
    for pair in (("Items", "ItemsPath"), ("ItemSelector", "Parameters")):
        check_exclusive(ctx, fields, path, pair, required=False)
    check_path(ctx, fields, path, "ItemsPath", reference=True, nullable=False)
    if "Items" in fields:
        items = fields["Items"]
        if not isinstance(items, list | dict) and jsonata_expression(items) is None:
            ctx.add(key(path, "Items"), "Items must be an array or a JSONata expression")
    if "ItemSelector" in fields:
        selector = fields["ItemSelector"]
        if language == JSONPATH:
            check_template(ctx, selector, key(path, "ItemSelector"), "ItemSelector")
        elif not isinstance(selector, dict) and jsonata_expression(selector) is None:
            ctx.add(
                key(path, "ItemSelector"),
                "ItemSelector must be a JSON object or a JSONata expression",
            )
    for name, minimum in (("MaxConcurrency", 0), ("ToleratedFailureCount", 0)):
        check_exclusive(ctx, fields, path, (name, name + "Path"), required=False)
        check_int(ctx, fields, path, name, minimum, language=language)
        check_path(ctx, fields, path, name + "Path", reference=True, nullable=False)
    name = "ToleratedFailurePercentage"
    check_exclusive(ctx, fields, path, (name, name + "Path"), required=False)
    check_path(ctx, fields, path, name + "Path", reference=True, nullable=False)
    if name in fields:
        value = fields[name]
        in_range = is_number(value) and 0 <= value <= 100  # type: ignore[operator]
        if not in_range and not (language == JSONATA and jsonata_expression(value) is not None):
            ctx.add(key(path, name), f"{name} must be a number from 0 to 100")
    check_string(ctx, fields, path, "Label")
    if "ItemBatcher" in fields:
        _check_batcher(ctx, fields["ItemBatcher"], key(path, "ItemBatcher"), language)
    check_items(ctx, fields, path, language)


def _check_batcher(ctx: Ctx, batcher: object, path: str, language: str) -> None:
    """``ItemBatcher`` (developer guide, "ItemBatcher (Map)")."""
    if not isinstance(batcher, dict):
        ctx.add(path, "ItemBatcher must be a JSON object")
        return
    sizes = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")
    allowed = {*sizes, "BatchInput"} | (
        {n + "Path" for n in sizes} if language == JSONPATH else set()
    )
    for name in batcher:
        if name not in allowed:
            ctx.add(key(path, name), f"field {name} is not allowed in ItemBatcher ({language})")
    for name in sizes:
        check_exclusive(ctx, batcher, path, (name, name + "Path"), required=False)
        maximum = _MAX_BATCH_BYTES if name == "MaxInputBytesPerBatch" else 99_999_999
        check_int(ctx, batcher, path, name, 1, maximum, language=language)
        if language == JSONPATH:
            check_path(ctx, batcher, path, name + "Path", reference=True, nullable=False)
    if "BatchInput" in batcher and language == JSONPATH:
        check_template(ctx, batcher["BatchInput"], key(path, "BatchInput"), "BatchInput")
    elif "BatchInput" in batcher and jsonata_expression(batcher["BatchInput"]) is None:
        check_object(ctx, batcher, path, "BatchInput")
