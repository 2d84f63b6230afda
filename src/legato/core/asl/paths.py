"""Input and output processing of JSONPath states (pure data flow).

Implements the ASL specification, "Input and Output Processing" (InputPath, Parameters,
ResultSelector, ResultPath, OutputPath, "Payload Template") and the developer guide's "Processing
input and output", "InputPath, Parameters and ResultSelector", "Specifying state output using
ResultPath", "OutputPath", "Accessing execution data from the Context object" and "Passing data
between states with variables". A state applies them in this order::

    raw input -InputPath-> -Parameters-> task -> result -ResultSelector-> -ResultPath(raw input)->
    -OutputPath-> output;  Assign is evaluated against the result, beside ResultSelector.

Nothing here mutates its arguments.
"""

from __future__ import annotations

import enum
import json
import random
from collections.abc import Mapping
from typing import Final, TypeAlias

from legato.core.asl.errors import StatesError
from legato.core.asl.intrinsics import evaluate, is_intrinsic
from legato.core.asl.selection import (
    is_reference_path,
    is_valid_path,
    reference_steps,
    select,
    split_root,
)
from legato.core.error_names import PARAMETER_PATH_FAILURE, RESULT_PATH_MATCH_FAILURE
from legato.core.events import JSON

__all__ = [
    "MISSING",
    "MaybeMissing",
    "Missing",
    "assign_jsonpath",
    "input_path",
    "is_reference_path",
    "is_valid_path",
    "output_path",
    "payload_template",
    "result_path",
    "select",
]


class Missing(enum.Enum):
    """A field absent from the state definition (unlike a field set to JSON ``null``)."""

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing.MISSING

#: A path field as read from a definition: a Path, JSON ``null``, or absent.
MaybeMissing: TypeAlias = str | None | Missing

_PATH_SUFFIX: Final = ".$"


def _filter_path(
    path: MaybeMissing, data: JSON, context: JSON, variables: Mapping[str, JSON]
) -> JSON:
    if path is MISSING:
        return data
    if path is None:
        return {}
    try:
        return select(path, data, context, variables)
    except StatesError as exc:
        normal = _normalized(path)
        if normal is None:
            raise
        # worded as Step Functions (its JSONPath library) words it
        raise StatesError(
            exc.error, f"Invalid path '{path}' : No results for path: {normal}"
        ) from None


def _normalized(path: str) -> str | None:
    """A reference path into the data in bracket notation (``$['a'][0]``), else None."""
    try:
        kind, jsonpath, _ = split_root(path)
    except ValueError:
        return None
    steps = reference_steps(jsonpath) if kind == "data" else None
    if steps is None:
        return None
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)


def input_path(
    path: MaybeMissing, data: JSON, context: JSON, variables: Mapping[str, JSON]
) -> JSON:
    """Apply ``InputPath`` (ASL spec, "InputPath"; developer guide, "InputPath").

    Absent: the raw input unchanged (the default ``$``). ``null``: "the raw input is discarded,
    and the effective input for the state is an empty JSON object". Otherwise: the selection,
    or ``StatesError(States.Runtime)`` when the path selects nothing.
    """
    return _filter_path(path, data, context, variables)


def output_path(
    path: MaybeMissing, data: JSON, context: JSON, variables: Mapping[str, JSON]
) -> JSON:
    """Apply ``OutputPath`` (ASL spec, "OutputPath"): the same rules as ``InputPath``.

    ``null`` means "the input and result are discarded, and the effective output from the state
    is an empty JSON object".
    """
    return _filter_path(path, data, context, variables)


def _child_location(location: str, key: str | int) -> str:
    return f"{location}[{key}]" if isinstance(key, int) else f"{location}.{key}"


def _extract(
    value: JSON,
    key: str,
    location: str,
    data: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    rng: random.Random | None,
) -> JSON:
    """The value of one ``"name.$"`` field: a Path or an intrinsic function call."""
    if not isinstance(value, str):
        raise StatesError(
            PARAMETER_PATH_FAILURE,
            f"{location}: the value of a field ending in '.$' must be a Path or an intrinsic "
            f"function, got {value!r}",
        )
    if is_intrinsic(value):
        return evaluate(value, data, context, variables, rng)
    try:
        return select(value, data, context, variables)
    except StatesError:  # worded as Step Functions words it
        shown = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        raise StatesError(
            PARAMETER_PATH_FAILURE,
            f"The JSONPath '{value}' specified for the field '{key}' could not be found in "
            f"the input '{shown}'",
        ) from None


def _template(
    node: JSON,
    location: str,
    data: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    rng: random.Random | None,
) -> JSON:
    if isinstance(node, dict):
        out: dict[str, JSON] = {}
        for key, value in node.items():
            where = _child_location(location, key)
            if key.endswith(_PATH_SUFFIX):
                out[key[: -len(_PATH_SUFFIX)]] = _extract(
                    value, key, where, data, context, variables, rng
                )
            else:
                out[key] = _template(value, where, data, context, variables, rng)
        return out
    if isinstance(node, list):
        return [
            _template(item, _child_location(location, i), data, context, variables, rng)
            for i, item in enumerate(node)
        ]
    return node


def payload_template(
    template: JSON,
    data: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    *,
    field: str,
    rng: random.Random | None = None,
) -> JSON:
    """Build a payload from a Payload Template (ASL spec, "Payload Template").

    Used for ``Parameters``, ``ResultSelector``, ``ItemSelector`` and JSONPath ``Arguments``
    (developer guide, "InputPath, Parameters and ResultSelector"). The template is copied
    recursively; a field whose name ends in ``.$`` is replaced by a field without the suffix
    whose value is its Path's selection (``$`` data, ``$$`` Context object, ``$var`` variable)
    or its intrinsic function's value (developer guide, "Intrinsic functions").

    Errors: a Path that cannot be applied raises ``States.ParameterPathFailure`` (ASL spec,
    "Parameters" and Appendix A; developer guide, "Error names"), with Step Functions' cause
    ``The JSONPath '$.x' specified for the field 'user.$' could not be found in the input
    '{...}'``; an intrinsic function that fails raises ``States.IntrinsicFailure``.
    """
    return _template(template, field, data, context, variables, rng)


def _deep_copy(value: JSON) -> JSON:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def result_path(path: MaybeMissing, state_input: JSON, result: JSON) -> JSON:
    """Combine a state's input and result (ASL spec, "ResultPath"; developer guide, "ResultPath").

    Absent or ``$``: the result replaces the input. ``null``: the result is discarded and the
    input passes through. A reference path: a copy of the input with the result placed at that
    path, creating missing intermediate objects. A path that is not a reference path over the
    input (``$$``, variables, wildcards) or that runs into a string, number, boolean, null or a
    missing array element raises ``States.ResultPathMatchFailure``.
    """
    if path is MISSING:
        return _deep_copy(result)
    if path is None:
        return _deep_copy(state_input)
    try:
        kind, jsonpath, _ = split_root(path)
    except ValueError as exc:
        raise StatesError(RESULT_PATH_MATCH_FAILURE, f"ResultPath {path!r}: {exc}") from None
    steps = reference_steps(jsonpath) if kind == "data" else None
    if steps is None:
        raise StatesError(
            RESULT_PATH_MATCH_FAILURE,
            f"ResultPath {path!r} is not a reference path into the state input",
        )
    if not steps:
        return _deep_copy(result)
    output = _deep_copy(state_input)
    node = output
    for depth, step in enumerate(steps):
        last = depth == len(steps) - 1
        value: JSON = _deep_copy(result) if last else {}
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                raise StatesError(
                    RESULT_PATH_MATCH_FAILURE,
                    f"ResultPath {path!r} cannot be applied to the input: there is no element "
                    f"[{step}] to set",
                )
            if not last:
                value = node[step]
                if not isinstance(value, (dict, list)):
                    raise _through_scalar(path, value)
            node[step] = value
        else:
            if not isinstance(node, dict):
                raise _through_scalar(path, node)
            if not last and step in node:
                value = node[step]
                if not isinstance(value, (dict, list)):
                    raise _through_scalar(path, value)
            node[step] = value
        node = value
    return output


def _through_scalar(path: str, value: JSON) -> StatesError:
    kind = "null" if value is None else type(value).__name__
    return StatesError(
        RESULT_PATH_MATCH_FAILURE,
        f"ResultPath {path!r} cannot be applied to the input: it goes through a {kind} value "
        f"{value!r}",
    )


def assign_jsonpath(
    block: JSON,
    result: JSON,
    context: JSON,
    variables: Mapping[str, JSON],
    rng: random.Random | None = None,
) -> dict[str, JSON]:
    """Evaluate the ``Assign`` field of a JSONPath state.

    Developer guide, "Passing data between states with variables": "JSONPath variable
    assignments behave similarly to payload templates"; ``$`` is the Task/Map/Parallel result
    (before ResultSelector), the effective input for Choice and Wait, and the result for Pass:
    the caller passes that value as ``result``. "Evaluation order in an assign field": every
    value is computed from the variables as they were on state entry, then all are assigned, so
    assignments never see each other.
    """
    if not isinstance(block, dict):
        raise StatesError(PARAMETER_PATH_FAILURE, "Assign must be a JSON object")
    out = payload_template(block, result, context, variables, field="Assign", rng=rng)
    assert isinstance(out, dict)
    return out
