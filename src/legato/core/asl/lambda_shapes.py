"""What a Lambda-backed Task sees, shaped as AWS Lambda and Step Functions shape it.

A Task runs a registered step where a real definition invokes a Lambda function (a function ARN
as ``Resource``, or ``arn:aws:states:::lambda:invoke``). These pure functions give what goes in
and comes out the shapes AWS gives them:

* a function's error as Lambda's error JSON, the ``Cause`` Step Functions passes on (Lambda
  developer guide, "AWS Lambda function errors in Python": ``errorMessage``, ``errorType``,
  ``requestId``, ``stackTrace``, the frames as Python's ``traceback.format_list`` writes them,
  without the runtime's own frames).
"""

from __future__ import annotations

import json
import uuid

_TRACEBACK = "Traceback (most recent call last):\n"
_FRAME = '  File "'
#: the frames that call the function (Legato's worker, the event loop, a thread pool): like
#: the Lambda runtime's bootstrap frames, they come before the function's and are left out
_RUNNER_FILES = ("/legato/engine/", "/asyncio/", "/concurrent/futures/", "/threading.py")
_REQUEST_IDS = uuid.UUID("6c2f0f4e-3b1a-5d0e-9a57-4c8b1f0e2a11")


def request_id(key: str) -> str:
    """A Lambda request id (a UUID) for one invocation, the same for the same ``key`` on every
    replay."""
    return str(uuid.uuid5(_REQUEST_IDS, key))


def stack_trace(traceback: str | None) -> list[str]:
    """The frames of the exception a function raised, one string per frame as
    ``traceback.format_list`` writes it: its last traceback only (not the exceptions it was
    raised from), from the function's first frame on."""
    if not traceback or _TRACEBACK not in traceback:
        return []
    body = traceback.rsplit(_TRACEBACK, 1)[1]
    frames: list[str] = []
    for line in body.splitlines(keepends=True):
        if line.startswith(_FRAME):
            frames.append(line)
        elif line.startswith("    ") and frames:
            frames[-1] += line
        elif line.startswith("  ") and frames:  # "  [Previous line repeated N more times]"
            frames.append(line)
        else:
            break  # the exception's own line
    first = 0
    while first < len(frames) - 1 and _is_runner(frames[first]):
        first += 1
    return frames[first:]


def _is_runner(frame: str) -> bool:
    path = frame[len(_FRAME) :].split('"', 1)[0].replace("\\", "/")
    return any(part in path for part in _RUNNER_FILES)


def error_cause(error_type: str, message: str, traceback: str | None, request: str) -> str:
    """Lambda's error JSON for a function that raised, as text: the Task's ``Cause``
    (serialised as the Python runtime serialises it, ``json.dumps``)."""
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request,
            "stackTrace": stack_trace(traceback),
        }
    )

