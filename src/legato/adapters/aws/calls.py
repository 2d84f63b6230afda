"""One AWS SDK call, as a Task state sees it: parameters in the API's PascalCase, the response
as JSON (no ``ResponseMetadata``; timestamps as ISO-8601 text; streamed bodies read), and an
error named ``<Prefix>.<ExceptionName>`` (``NamedStepError``) so Retry and Catch match it.

Error names follow the developer guide ("Learning to use AWS service SDK integrations"): the
exception the service's model declares, with the ``Exception`` suffix added when its name
lacks one (``NoSuchKey`` → ``S3.NoSuchKeyException``). An error code the model does not
declare is, as the AWS SDK for Java raises it, the service's base exception
(``generic_error``, ``S3.S3Exception``; the code is in the cause) when the caller gives one,
else ``<Prefix>.<Code>Exception``. What never reached the service (bad parameters, no
credentials, no connection) is ``States.TaskFailed``."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from typing import Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from legato.adapters.aws.clients import AwsClients
from legato.adapters.aws.shapes import from_model, to_model
from legato.errors import NamedStepError

TASK_FAILED = "States.TaskFailed"


async def call(
    clients: AwsClients,
    service: str,
    operation: str,
    params: Mapping[str, Any],
    error_prefix: str,
    generic_error: str | None = None,
    pascal_case: bool = False,
) -> Any:
    """Call ``operation`` (``PutItem``) of botocore's ``service`` (``dynamodb``). With
    ``pascal_case`` (the ``aws-sdk`` integration), parameters may name every member in
    PascalCase and the response names them so, whatever the model's spelling."""
    client = await clients.client(service)
    method = getattr(client, xform_name(operation))
    model = client.meta.service_model.operation_model(operation) if pascal_case else None
    if model is not None:
        params = to_model(model.input_shape, params)
    try:
        response = await method(**params)
    except ClientError as exc:
        raise _service_error(exc, error_prefix, generic_error) from None
    except BotoCoreError as exc:  # parameters, credentials, endpoint: the call was not made
        raise NamedStepError(TASK_FAILED, f"{error_prefix} {operation}: {exc}") from None
    response.pop("ResponseMetadata", None)
    if model is not None:
        response = from_model(model.output_shape, response)
    return await to_json(response)


def _service_error(exc: ClientError, prefix: str, generic_error: str | None) -> NamedStepError:
    """The Task error for an error the service answered, with a cause shaped as Step Functions
    gives it: ``<message> (Service: <prefix>, Status Code: <n>, Request ID: <id>)``."""
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    code = str(error.get("QueryErrorCode") or error.get("Code") or "Unknown")
    modeled = type(exc) is not ClientError  # botocore raises the model's class when declared
    if modeled:
        name = exception_name(type(exc).__name__)
    elif generic_error is not None:
        name = generic_error
    else:
        name = exception_name(code.rsplit(".", 1)[-1])
    message = str(error.get("Message") or code)
    details = [f"Service: {prefix}", f"Status Code: {meta.get('HTTPStatusCode', '?')}"]
    if not modeled:
        details.append(f"Error Code: {code}")
    details.append(f"Request ID: {meta.get('RequestId') or '-'}")
    return NamedStepError(f"{prefix}.{name}", f"{message} ({', '.join(details)})")


def exception_name(code: str) -> str:
    """An error code as the AWS SDK for Java names its exception class (Step Functions' names):
    ``NoSuchKey`` is ``NoSuchKeyException``."""
    return code if code.endswith("Exception") else f"{code}Exception"


def timestamp(value: datetime.datetime) -> str:
    """ISO-8601 in UTC as Java's ``Instant`` prints it (the SDK Step Functions runs on):
    ``2024-05-01T12:00:00Z``, a fraction only when there is one, in milliseconds unless finer."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros:
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text + "Z"


async def to_json(value: Any) -> Any:
    """A botocore response as JSON: timestamps as ISO-8601 text (UTC as ``Z``), a streamed
    body read as text (base64 when it is not UTF-8), blobs as base64 (as the SDK serialises
    them)."""
    if isinstance(value, dict):
        return {key: await to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [await to_json(item) for item in value]
    if isinstance(value, datetime.datetime):
        return timestamp(value)
    if hasattr(value, "read"):
        data = await value.read()
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(data).decode("ascii")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value
