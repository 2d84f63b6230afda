"""The optimized service integrations' request and response shapes (developer guide,
"Integrating optimized services with Step Functions" and each service's page), as pure
functions so they are tested without AWS.

An optimized integration (``arn:aws:states:::dynamodb:putItem``) is an AWS API call like its
``aws-sdk`` twin, with differences the developer guide lists per service, which are the
reason this module exists:

* errors are named with the service's optimized prefix, which is not always the ``aws-sdk``
  one (``DynamoDB.ConditionalCheckFailedException``, not ``DynamoDb...``; "Call DynamoDB APIs
  with Step Functions", "Exception prefix differences");
* a JSON value where the API wants text is serialized (SQS ``MessageBody``, SNS ``Message``,
  EventBridge ``Detail``, Bedrock ``Body``), so a definition may write an object there;
* EventBridge ``putEvents`` adds the execution's and state machine's ARNs to each entry's
  ``Resources`` and fails with ``EventBridge.FailedEntry`` when an entry was refused;
* Bedrock ``invokeModel`` returns the model's JSON answer as an object under ``Body``;
* Glue ``startJobRun`` echoes the request's ``JobName`` in its response;
* DynamoDB, SNS and SQS answers carry the AWS SDK for Java's ``SdkHttpMetadata`` and
  ``SdkResponseMetadata``, which definitions test in Choice states.

Which integration patterns each action supports follows the developer guide's table of
optimized integrations; ``problem`` names a pattern or action Legato does not run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final, TypeAlias, cast

from legato.core import error_names
from legato.core.asl.errors import StatesError, task_error
from legato.core.asl.resources import Integration, IntegrationPattern, Resource
from legato.core.events import JSON

_Patterns: TypeAlias = frozenset[IntegrationPattern]
_REQUEST: Final[_Patterns] = frozenset({"request"})
_TOKEN: Final[_Patterns] = frozenset({"request", "token"})
_SYNC: Final[_Patterns] = frozenset({"request", "sync"})
_SYNC_TOKEN: Final[_Patterns] = frozenset({"request", "sync", "token"})

#: ``EventBridge.FailedEntry``: a putEvents entry was refused (developer guide, "Add
#: EventBridge events with Step Functions")
FAILED_ENTRY: Final = "EventBridge.FailedEntry"
JSON_TYPE: Final = "application/json"


@dataclass(frozen=True)
class Optimized:
    """One optimized action: botocore's service and operation that carry it, the prefix of
    its error names, and the integration patterns the developer guide allows for it."""

    service: str
    operation: str
    prefix: str
    patterns: frozenset[IntegrationPattern]


def _actions(
    service: str, prefix: str, patterns: frozenset[IntegrationPattern], *actions: str
) -> dict[tuple[str, str], Optimized]:
    return {
        (service, a): Optimized(service, a[:1].upper() + a[1:], prefix, patterns) for a in actions
    }


#: every optimized action Legato runs, by the Resource's ``SERVICE:ACTION``
OPTIMIZED: Final[dict[tuple[str, str], Optimized]] = {
    **_actions("dynamodb", "DynamoDB", _REQUEST, "getItem", "putItem", "updateItem", "deleteItem"),
    **_actions("sns", "SNS", _TOKEN, "publish"),
    **_actions("sqs", "SQS", _TOKEN, "sendMessage"),
    **_actions("ecs", "ECS", _SYNC_TOKEN, "runTask"),
    **_actions("batch", "Batch", _SYNC, "submitJob"),
    **_actions("glue", "Glue", _SYNC, "startJobRun"),
    **_actions("athena", "Athena", _SYNC, "startQueryExecution"),
    **_actions(
        "athena", "Athena", _REQUEST, "stopQueryExecution", "getQueryExecution", "getQueryResults"
    ),
    ("events", "putEvents"): Optimized("events", "PutEvents", "EventBridge", _TOKEN),
    ("bedrock", "invokeModel"): Optimized("bedrock-runtime", "InvokeModel", "Bedrock", _TOKEN),
}

_PATTERN_NAMES: Final[dict[str, str]] = {
    "request": "Request Response",
    "sync": ".sync",
    "sync2": ".sync:2",
    "token": ".waitForTaskToken",
}


def problem(integration: Integration) -> str | None:
    """Why Legato cannot run this optimized integration, or None when it can: an action
    that is not optimized (the ``aws-sdk`` form calls it), or a pattern the developer guide
    does not define for it."""
    spec = OPTIMIZED.get((integration.service, integration.action))
    if spec is None:
        known = sorted(a for s, a in OPTIMIZED if s == integration.service)
        if known:
            return (
                f"{integration.service}:{integration.action} is not an optimized integration "
                f"(the optimized {integration.service} actions are {', '.join(known)}); call it "
                f"as arn:aws:states:::aws-sdk:{integration.service}:{integration.action}"
            )
        return (
            f"Legato runs no optimized {integration.service} integration; the AWS SDK "
            f"integration (arn:aws:states:::aws-sdk:{integration.service}:ACTION) calls any "
            "action of the service"
        )
    if integration.pattern not in spec.patterns:
        allowed = ", ".join(_PATTERN_NAMES[p] for p in sorted(spec.patterns))
        return (
            f"{integration.service}:{integration.action} does not support the "
            f"{_PATTERN_NAMES[integration.pattern]} integration pattern (it supports {allowed})"
        )
    return None


def resource_problem(resource: Resource) -> str | None:
    """For validation: why Legato cannot run this Resource if it is an optimized integration
    (``problem``), None for every other kind of Resource."""
    if isinstance(resource, Integration) and not resource.sdk:
        return problem(resource)
    return None


def json_text(value: JSON) -> str:
    """A JSON value as the text Step Functions sends where an API wants a string: compact."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text(value: JSON) -> JSON:
    return value if isinstance(value, str) else json_text(value)


def field(obj: JSON, name: str) -> JSON:
    """``obj[name]`` in a botocore answer whether its keys are the API's (``status``) or
    Step Functions' PascalCase (``Status``): None when absent."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    return obj.get(name[:1].lower() + name[1:])


def request(
    integration: Integration, args: JSON, execution_arn: str, machine_arn: str
) -> dict[str, JSON]:
    """The API parameters for the state's arguments. ``ValueError`` names a parameter Legato
    does not take."""
    params = dict(args) if isinstance(args, dict) else {}
    key = (integration.service, integration.action)
    if key == ("sqs", "sendMessage") and "MessageBody" in params:
        params["MessageBody"] = _text(params["MessageBody"])
    elif key == ("sns", "publish") and "Message" in params:
        params["Message"] = _text(params["Message"])
    elif key == ("events", "putEvents"):
        params["Entries"] = [
            _event_entry(entry, execution_arn, machine_arn)
            for entry in cast(list[JSON], params.get("Entries") or [])
        ]
    elif key == ("bedrock", "invokeModel"):
        return _bedrock_request(params)
    return params


def _event_entry(entry: JSON, execution_arn: str, machine_arn: str) -> JSON:
    if not isinstance(entry, dict):
        return entry
    out = dict(entry)
    if "Detail" in out:
        out["Detail"] = _text(out["Detail"])
    resources = out.get("Resources")
    listed = list(resources) if isinstance(resources, list) else []
    out["Resources"] = [*listed, execution_arn, machine_arn]
    return out


#: InvokeModel's fields as Step Functions names them, and as bedrock-runtime's API does
_BEDROCK_FIELDS: Final = {
    "ModelId": "modelId",
    "ContentType": "contentType",
    "Accept": "accept",
    "Trace": "trace",
    "GuardrailIdentifier": "guardrailIdentifier",
    "GuardrailVersion": "guardrailVersion",
    "PerformanceConfigLatency": "performanceConfigLatency",
}


def _bedrock_request(params: dict[str, JSON]) -> dict[str, JSON]:
    """InvokeModel's request (developer guide, "Invoke and customize Amazon Bedrock models"):
    ``Body`` (a JSON object is sent as JSON text), or ``Input.S3Uri`` (the body is read from
    that object first: ``bedrock_input``), ``ContentType`` and ``Accept`` defaulting to
    application/json. ``Output`` (the answer written to S3) is not run yet."""
    if "Output" in params:
        raise ValueError(
            "bedrock:invokeModel's Output (an S3 location for the answer) is not supported by "
            "Legato; the answer is the state's result"
        )
    if "Body" in params and "Input" in params:
        raise ValueError("bedrock:invokeModel takes Body or Input, not both")
    unknown = sorted(set(params) - set(_BEDROCK_FIELDS) - {"Body", "Input"})
    if unknown:
        raise ValueError(f"bedrock:invokeModel does not take {', '.join(unknown)}")
    out: dict[str, JSON] = {
        _BEDROCK_FIELDS[k]: v for k, v in params.items() if k not in ("Body", "Input")
    }
    out.setdefault("contentType", JSON_TYPE)
    out.setdefault("accept", JSON_TYPE)
    if "Body" in params:
        out["body"] = _text(params["Body"])
    return out


def bedrock_input(integration: Integration, args: JSON) -> tuple[str, str] | None:
    """The S3 object (bucket, key) a Bedrock ``invokeModel`` reads its body from
    (``Input.S3Uri``), None when the body is given inline or for any other integration;
    ``ValueError`` for a location that is not ``s3://BUCKET/KEY``."""
    if (integration.service, integration.action) != ("bedrock", "invokeModel"):
        return None
    if not isinstance(args, dict) or "Input" not in args:
        return None
    uri = field(args["Input"], "S3Uri")
    if not isinstance(uri, str) or not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"bedrock:invokeModel's Input.S3Uri must be s3://BUCKET/KEY, not {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    if not bucket or not key:
        raise ValueError(f"bedrock:invokeModel's Input.S3Uri must be s3://BUCKET/KEY, not {uri!r}")
    return bucket, key


#: what the AWS SDK for Java adds to the DynamoDB, SNS and SQS answers Step Functions returns
#: (the HTTP status of a call that answered is 200; Legato does not pass on its headers)
_SDK_METADATA: Final[dict[str, JSON]] = {
    "SdkHttpMetadata": {"AllHttpHeaders": {}, "HttpHeaders": {}, "HttpStatusCode": 200},
    "SdkResponseMetadata": {"RequestId": ""},
}


def response(integration: Integration, args: JSON, answer: JSON) -> JSON:
    """The state's result for the API's ``answer``; raises the ``StatesError`` the developer
    guide names for an answer that fails the task (``EventBridge.FailedEntry``)."""
    key = (integration.service, integration.action)
    if integration.service in ("dynamodb", "sns", "sqs") and isinstance(answer, dict):
        return {**answer, **_SDK_METADATA}
    if key == ("events", "putEvents"):
        failed = field(answer, "FailedEntryCount")
        if isinstance(failed, int) and failed > 0:
            raise task_error(FAILED_ENTRY, json_text(answer))
        return answer
    if key == ("bedrock", "invokeModel"):
        return _bedrock_response(answer)
    if key == ("glue", "startJobRun") and isinstance(answer, dict) and isinstance(args, dict):
        return {"JobName": args.get("JobName"), **answer}
    return answer


def _bedrock_response(answer: JSON) -> JSON:
    """``{"Body": <the model's answer, decoded when JSON>, "ContentType": ...}``."""
    content_type = field(answer, "ContentType")
    body = field(answer, "Body")
    if isinstance(body, str) and (content_type is None or JSON_TYPE in str(content_type)):
        try:
            body = json.loads(body)
        except json.JSONDecodeError:
            pass
    return {"Body": body, "ContentType": content_type}


def runtime_error(state: str, integration: Integration, why: str) -> StatesError:
    """The States.Runtime error of an integration Legato cannot run as written."""
    return StatesError(
        error_names.RUNTIME,
        f"{state}: arn:aws:states:::{integration.service}:{integration.action}: {why}",
    )
