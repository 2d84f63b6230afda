"""What a Lambda-backed Task sees, shaped as AWS Lambda and Step Functions shape it.

A Task runs a registered step where a real definition invokes a Lambda function (a function ARN
as ``Resource``, or ``arn:aws:states:::lambda:invoke``). These pure functions give what goes in
and comes out the shapes AWS gives them:

* a function's error as Lambda's error JSON, the ``Cause`` Step Functions passes on (Lambda
  developer guide, "AWS Lambda function errors in Python": ``errorMessage``, ``errorType``,
  ``requestId``, ``stackTrace``, the frames as Python's ``traceback.format_list`` writes them,
  without the runtime's own frames);
* ``lambda:invoke``'s result: Lambda's Invoke response with the function's output under
  ``Payload`` (Step Functions developer guide, "Invoke Lambda with Step Functions");
* a payload or a return value that is JSON text, decoded as the optimised integration decodes
  it ("The Payload field of the response is parsed from escaped Json to Json", ibid.);
* an unknown function: ``Lambda.ResourceNotFoundException`` worded as the Lambda service words
  it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import cast

from legato.core.asl.arns import AwsIdentity
from legato.core.events import JSON

#: the error a Task gets for a function that does not exist (Lambda API, "Invoke", Errors)
RESOURCE_NOT_FOUND = "Lambda.ResourceNotFoundException"
LATEST = "$LATEST"

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


def decode_json_text(value: JSON) -> JSON:
    """A string that holds JSON text, decoded (``"{}"`` is ``{}``, ``"0.0"`` is ``0.0``); any
    other value as it is."""
    if not isinstance(value, str):
        return value
    try:
        return cast(JSON, json.loads(value, parse_constant=_no_constant))
    except ValueError:
        return value


def _no_constant(name: str) -> JSON:
    raise ValueError(f"{name} is not JSON")


def invoke_payload(payload: JSON) -> JSON:
    """What the function receives from ``lambda:invoke``'s ``Payload``: JSON text decoded, and
    ``{}`` when there is none (Lambda invokes a function with an empty event then)."""
    if payload is None:
        return {}
    return decode_json_text(payload)


def invoke_response(payload: JSON, request: str, now_ms: int) -> dict[str, JSON]:
    """``lambda:invoke``'s result: Lambda's Invoke response around the function's output
    (Step Functions developer guide, "Invoke Lambda with Step Functions", the example result).
    ``Content-Length`` counts the payload's JSON bytes as the Python runtime writes them."""
    length = str(len(json.dumps(payload).encode()))
    date = format_datetime(datetime.fromtimestamp(now_ms / 1000, UTC), usegmt=True)
    seconds = format(now_ms // 1000, "08x")
    trace = f"Root=1-{seconds}-{uuid.UUID(request).hex[:24]};Sampled=0"
    headers: dict[str, str] = {
        "Connection": "keep-alive",
        "Content-Length": length,
        "Content-Type": "application/json",
        "Date": date,
        "X-Amz-Executed-Version": LATEST,
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request,
        "X-Amzn-Trace-Id": trace,
    }
    return {
        "ExecutedVersion": LATEST,
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in headers.items()},
            "HttpHeaders": dict(headers),
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request},
        "StatusCode": 200,
    }


def function_arn(function: str, aws: AwsIdentity | None = None) -> str:
    """A ``FunctionName`` (or a function ARN) as the full ARN Lambda names in its errors: a
    plain name in the app's region and account (``aws``: ``App(aws_region=, aws_account=)``),
    ``$LATEST`` when no version or alias is given."""
    aws = aws or AwsIdentity()
    parts = function.split(":")
    if function.startswith("arn:") and len(parts) >= 7:
        return function if len(parts) > 7 else f"{function}:{LATEST}"
    if "function" in parts[:-1]:  # ACCOUNT:function:NAME[:QUALIFIER]
        i = parts.index("function")
        account, rest = parts[i - 1] if i else aws.account, parts[i + 1 :]
    else:  # NAME[:QUALIFIER]
        account, rest = aws.account, parts
    qualifier = rest[1] if len(rest) > 1 else LATEST
    return f"arn:aws:lambda:{aws.region}:{account}:function:{rest[0]}:{qualifier}"


def not_found_cause(function: str, request: str, aws: AwsIdentity | None = None) -> str:
    """The ``Cause`` of ``Lambda.ResourceNotFoundException``, as Step Functions reports the
    Lambda service's error (service, status code, error code, request id)."""
    return (
        f"Function not found: {function_arn(function, aws)} (Service: AWSLambda; Status Code: 404; "
        f"Error Code: ResourceNotFoundException; Request ID: {request}; Proxy: null)"
    )
