"""One AWS SDK call, as a Task state sees it: parameters in the API's PascalCase, the response
as JSON (no ``ResponseMetadata``; timestamps as ISO-8601 text; streamed bodies read), and an
error named ``<Prefix>.<ExceptionName>`` (``NamedStepError``) so Retry and Catch match it."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError, ParamValidationError
from botocore.response import StreamingBody

from legato.adapters.aws.clients import AwsClients
from legato.errors import NamedStepError

TASK_FAILED = "States.TaskFailed"


async def call(
    clients: AwsClients,
    service: str,
    operation: str,
    params: Mapping[str, Any],
    error_prefix: str,
) -> Any:
    """Call ``operation`` (``PutItem``) of botocore's ``service`` (``dynamodb``)."""
    client = await clients.client(service)
    method = getattr(client, xform_name(operation))
    try:
        response = await method(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        # awsQueryCompatible services (SQS) give the legacy code the SDKs name exceptions by
        code = str(error.get("QueryErrorCode") or error.get("Code") or "UnknownError")
        raise NamedStepError(
            f"{error_prefix}.{exception_name(code)}", str(error.get("Message") or exc)
        ) from None
    except ParamValidationError as exc:
        raise NamedStepError(TASK_FAILED, str(exc)) from None
    response.pop("ResponseMetadata", None)
    return await to_json(response)


def exception_name(code: str) -> str:
    """An error code as the AWS SDK for Java names its exception class (Step Functions' names):
    ``NoSuchKey`` is ``NoSuchKeyException``."""
    return code if code.endswith("Exception") else f"{code}Exception"


async def to_json(value: Any) -> Any:
    """A botocore response as JSON: timestamps as ISO-8601 text, streams and bytes read (text
    when UTF-8, else base64)."""
    if isinstance(value, dict):
        return {key: await to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [await to_json(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, StreamingBody) or hasattr(value, "read"):
        value = await value.read()
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    return value
