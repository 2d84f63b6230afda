"""Validation of ``Retry`` and ``Catch`` (ASL spec, "Errors", "Retrying after error" and
"Fallback states"; AWS Step Functions developer guide, "Handling errors in Step Functions
workflows": retrier and catcher fields, JitterStrategy, MaxDelaySeconds).
"""

from __future__ import annotations

from collections.abc import Mapping

from legato.core.asl.validate_fields import (
    JSONATA,
    JSONPATH,
    Ctx,
    check_assign,
    check_int,
    check_path,
    check_string,
    check_unknown,
    index,
    is_number,
    key,
)
from legato.core.error_names import ALL

_RETRIER_FIELDS = (
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Comment",
)
_CATCHER_FIELDS = ("ErrorEquals", "Next", "ResultPath", "Output", "Assign", "Comment")
_JITTER = ("FULL", "NONE")


def check_retry(ctx: Ctx, state: Mapping[str, object], path: str) -> None:
    """``Retry``: an array of retriers; ``States.ALL`` only alone and in the last one."""
    if "Retry" not in state:
        return
    retry_path = key(path, "Retry")
    retriers = state["Retry"]
    if not isinstance(retriers, list):
        ctx.add(retry_path, "Retry must be an array of retriers")
        return
    for i, retrier in enumerate(retriers):
        at = index(retry_path, i)
        if not isinstance(retrier, dict):
            ctx.add(at, "a retrier must be a JSON object")
            continue
        check_unknown(ctx, retrier, at, _RETRIER_FIELDS, "a retrier")
        _check_error_equals(ctx, retrier, at, last=i == len(retriers) - 1, what="retrier")
        check_int(ctx, retrier, at, "IntervalSeconds", 1)
        check_int(ctx, retrier, at, "MaxAttempts", 0)
        check_int(ctx, retrier, at, "MaxDelaySeconds", 1, 31_622_400)
        check_string(ctx, retrier, at, "Comment")
        if "BackoffRate" in retrier:
            rate = retrier["BackoffRate"]
            if not is_number(rate) or not rate >= 1.0:
                ctx.add(key(at, "BackoffRate"), "BackoffRate must be a number >= 1.0")
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in _JITTER:
            ctx.add(key(at, "JitterStrategy"), "JitterStrategy must be FULL or NONE")


def check_catch(
    ctx: Ctx, state: Mapping[str, object], path: str, language: str
) -> list[tuple[str, str]]:
    """``Catch``: an array of catchers, each naming its ``Next`` state. Returns the transitions
    as (state name, path of the Next field)."""
    if "Catch" not in state:
        return []
    catch_path = key(path, "Catch")
    catchers = state["Catch"]
    if not isinstance(catchers, list):
        ctx.add(catch_path, "Catch must be an array of catchers")
        return []
    transitions: list[tuple[str, str]] = []
    for i, catcher in enumerate(catchers):
        at = index(catch_path, i)
        if not isinstance(catcher, dict):
            ctx.add(at, "a catcher must be a JSON object")
            continue
        check_unknown(ctx, catcher, at, _CATCHER_FIELDS, "a catcher")
        _check_error_equals(ctx, catcher, at, last=i == len(catchers) - 1, what="catcher")
        check_string(ctx, catcher, at, "Comment")
        nxt = catcher.get("Next")
        if "Next" not in catcher:
            ctx.add(key(at, "Next"), "Next is required in a catcher")
        elif not isinstance(nxt, str):
            ctx.add(key(at, "Next"), "Next must be a state name")
        else:
            transitions.append((nxt, key(at, "Next")))
        if language == JSONATA and "ResultPath" in catcher:
            ctx.add(
                key(at, "ResultPath"), "ResultPath is not allowed in JSONata states; use Output"
            )
        if language == JSONPATH and "Output" in catcher:
            ctx.add(key(at, "Output"), "Output is only allowed in JSONata states")
        check_path(ctx, catcher, at, "ResultPath", reference=True, nullable=True)
        check_assign(ctx, catcher, at, language)
    return transitions


def _check_error_equals(
    ctx: Ctx, handler: Mapping[str, object], path: str, last: bool, what: str
) -> None:
    at = key(path, "ErrorEquals")
    if "ErrorEquals" not in handler:
        ctx.add(at, f"ErrorEquals is required in a {what}")
        return
    names = handler["ErrorEquals"]
    if not isinstance(names, list) or not names:
        ctx.add(at, "ErrorEquals must be a non-empty array of error names")
        return
    for j, name in enumerate(names):
        if not isinstance(name, str) or not name:
            ctx.add(index(at, j), "an error name must be a non-empty string")
    if ALL in names:
        if len(names) > 1:
            ctx.add(at, f"{ALL} must appear alone in ErrorEquals")
        if not last:
            ctx.add(at, f"{ALL} must be in the last {what}")
