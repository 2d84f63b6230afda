"""What a Task state's ``Resource`` asks Legato to run (ASL spec, "Task State"; AWS Step Functions
developer guide, "Integrating services" and "Discover service integration patterns").

Legato runs three kinds of resource:

* a step registered in the app, named plainly (``"charge"``) or by a Lambda function ARN
  (``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``), so that a real Step Functions
  definition runs unchanged once its functions are registered as steps;
* the optimised Lambda integration ``arn:aws:states:::lambda:invoke[.waitForTaskToken]``, whose
  function comes from ``FunctionName`` in Parameters/Arguments at run time;
* a child execution: ``arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]``
  (the state machine comes from ``StateMachineArn``) or ``legato:workflow:NAME`` (run NAME and
  wait for its result).

* a Step Functions activity, ``arn:aws:states:REGION:ACCOUNT:activity:NAME``: the state waits
  for a worker that polls activity NAME through the HTTP API (``POST
  /v1/activities/NAME/poll``) and answers with the task token it got.
* an AWS service integration, ``arn:aws:states:::SERVICE:ACTION[.sync|.sync:2|.waitForTaskToken]``
  (optimized) or ``arn:aws:states:::aws-sdk:SERVICE:ACTION[.waitForTaskToken]`` (any action of
  the AWS SDK): :class:`Integration`, a call through the AWS SDK run as a durable step;
* the HTTP Task, ``arn:aws:states:::http:invoke[.waitForTaskToken]``: :class:`HttpInvoke`.

Which services and actions exist is not checked here (the core reads no SDK model): the
interpreter's integration layer names an unknown one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"

ChildMode: TypeAlias = Literal["fire", "sync", "sync2", "token"]


@dataclass(frozen=True)
class StepResource:
    """A step registered in the app under ``name``; ``function`` is the Lambda function ARN
    when the Resource names it by one (it then behaves as the Lambda function would)."""

    name: str
    wait_for_token: bool = False
    function: str | None = None


@dataclass(frozen=True)
class LambdaInvoke:
    """``arn:aws:states:::lambda:invoke``: the step is named by ``FunctionName`` at run time."""

    wait_for_token: bool = False


@dataclass(frozen=True)
class ChildExecution:
    """Start another workflow: ``fire`` and forget, wait for it (``sync``, ``sync2``: output as
    JSON rather than a string), or wait for a task token (``token``)."""

    mode: ChildMode
    workflow: str | None = None


@dataclass(frozen=True)
class Activity:
    """A Step Functions activity: a worker polls for it by ``name`` and completes it with its
    task token."""

    name: str


#: how a service integration's state ends (developer guide, "Discover service integration
#: patterns"): when the call answers, when the job it started ends, or when a task token comes
IntegrationPattern: TypeAlias = Literal["request", "sync", "sync2", "token"]


@dataclass(frozen=True)
class Integration:
    """An AWS service call: ``service`` and ``action`` as the Resource spells them
    (``dynamodb``, ``putItem``; for ``aws-sdk``, ``sdk`` is true and the action is the SDK's,
    ``getObject``), and how the state waits for it."""

    service: str
    action: str
    sdk: bool = False
    pattern: IntegrationPattern = "request"

    @property
    def wait_for_token(self) -> bool:
        return self.pattern == "token"


@dataclass(frozen=True)
class HttpInvoke:
    """``arn:aws:states:::http:invoke``: an HTTP request to a third-party API."""

    wait_for_token: bool = False


Resource: TypeAlias = (
    StepResource | LambdaInvoke | ChildExecution | Activity | Integration | HttpInvoke
)

#: an activity's work is a task of this step name and queue (``activity_step``), which no
#: registered step can have: only an activity poll claims it
ACTIVITY_PREFIX = "activity:"


def activity_step(name: str) -> str:
    """The step name (and queue) of activity ``name``'s tasks."""
    return ACTIVITY_PREFIX + name


class UnsupportedResource(ValueError):
    """A Resource that Legato cannot run (another AWS service integration, an activity...)."""


_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(?::[A-Za-z0-9_$-]+)?$"
)
_STATES_ARN = re.compile(r"^arn:aws[a-z-]*:states:::(.+)$")
_ACTIVITY_ARN = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:activity:([A-Za-z0-9_.-]{1,80})$"
)
_LEGATO_WORKFLOW = "legato:workflow:"

_CHILD_MODES: dict[str, ChildMode] = {
    "states:startExecution": "fire",
    "states:startExecution.sync": "sync",
    "states:startExecution.sync:2": "sync2",
    "states:startExecution.waitForTaskToken": "token",
}

_SERVICES = {
    "sqs": "Amazon SQS",
    "sns": "Amazon SNS",
    "dynamodb": "Amazon DynamoDB",
    "ecs": "Amazon ECS",
    "eks": "Amazon EKS",
    "batch": "AWS Batch",
    "glue": "AWS Glue",
    "sagemaker": "Amazon SageMaker",
    "events": "Amazon EventBridge",
    "apigateway": "Amazon API Gateway",
    "http": "HTTP Task",
    "s3": "Amazon S3",
    "athena": "Amazon Athena",
    "codebuild": "AWS CodeBuild",
    "bedrock": "Amazon Bedrock",
    "emr": "Amazon EMR",
    "aws-sdk": "AWS SDK",
}

_SUPPORTED = (
    "Legato runs registered steps (by name or Lambda function ARN), lambda:invoke, child "
    "executions, activities, AWS service integrations (arn:aws:states:::SERVICE:ACTION or "
    "arn:aws:states:::aws-sdk:SERVICE:ACTION) and http:invoke"
)


def parse_resource(resource: str) -> Resource:
    """What ``resource`` runs, or :class:`UnsupportedResource` saying why Legato cannot run it."""
    if not resource:
        raise UnsupportedResource(f"an empty Resource names nothing to run; {_SUPPORTED}")
    if ":" not in resource:
        if resource.endswith(WAIT_FOR_TASK_TOKEN) and len(resource) > len(WAIT_FOR_TASK_TOKEN):
            return StepResource(resource[: -len(WAIT_FOR_TASK_TOKEN)], wait_for_token=True)
        return StepResource(resource)
    if resource.startswith(_LEGATO_WORKFLOW):
        name = resource[len(_LEGATO_WORKFLOW) :]
        if not name:
            raise UnsupportedResource(f"{resource!r} names no workflow; use legato:workflow:NAME")
        return ChildExecution("sync", name)
    activity_arn = _ACTIVITY_ARN.match(resource)
    if activity_arn:
        return Activity(activity_arn.group(1))
    lambda_arn = _LAMBDA_ARN.match(resource)
    if lambda_arn:
        return StepResource(lambda_arn.group(1), function=resource)
    states_arn = _STATES_ARN.match(resource)
    if states_arn:
        action = states_arn.group(1)
        if action == "lambda:invoke":
            return LambdaInvoke()
        if action == "lambda:invoke" + WAIT_FOR_TASK_TOKEN:
            return LambdaInvoke(wait_for_token=True)
        if action in _CHILD_MODES:
            return ChildExecution(_CHILD_MODES[action])
        if action in ("http:invoke", "http:invoke" + WAIT_FOR_TASK_TOKEN):
            return HttpInvoke(wait_for_token=action.endswith(WAIT_FOR_TASK_TOKEN))
        integration = _integration(action)
        if integration is not None:
            return integration
        raise UnsupportedResource(_integration_message(resource, action))
    raise UnsupportedResource(f"{resource!r} is not a resource Legato can run; {_SUPPORTED}")


_PATTERNS: tuple[tuple[str, IntegrationPattern], ...] = (
    (WAIT_FOR_TASK_TOKEN, "token"),
    (".sync:2", "sync2"),
    (".sync", "sync"),
)
_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_ACTION = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def _integration(action: str) -> Integration | None:
    """``SERVICE:ACTION[suffix]`` or ``aws-sdk:SERVICE:ACTION[suffix]``, or None when it is not
    shaped as one."""
    pattern: IntegrationPattern = "request"
    for suffix, named in _PATTERNS:
        if action.endswith(suffix):
            action, pattern = action[: -len(suffix)], named
            break
    parts = action.split(":")
    sdk = parts[0] == "aws-sdk"
    if sdk:
        parts = parts[1:]
    if len(parts) != 2 or not _NAME.match(parts[0]) or not _ACTION.match(parts[1]):
        return None
    return Integration(parts[0], parts[1], sdk, pattern)


def _integration_message(resource: str, action: str) -> str:
    service = action.split(":", 1)[0]
    label = _SERVICES.get(service, service)
    return (
        f"{resource!r} is not a well-formed {label} service integration Resource ({action}): "
        "expected SERVICE:ACTION with an optional .sync, .sync:2 or .waitForTaskToken"
    )


def function_name_of(value: str) -> str:
    """The function name in a Lambda ``FunctionName``: a name, ``name:qualifier``, a partial ARN
    ``ACCOUNT:function:NAME[:QUALIFIER]`` or a full function ARN (Lambda API, "Invoke")."""
    parts = value.split(":")
    if "function" in parts[:-1]:
        return parts[parts.index("function") + 1]
    return parts[0]


def workflow_name_of(arn_or_name: str) -> str:
    """The workflow a ``StateMachineArn`` names: the part after ``:stateMachine:`` without a
    version or alias suffix; ``legato:workflow:NAME`` and plain names are taken as they are."""
    marker = ":stateMachine:"
    if marker in arn_or_name:
        return arn_or_name.split(marker, 1)[1].split(":", 1)[0]
    if arn_or_name.startswith(_LEGATO_WORKFLOW):
        return arn_or_name[len(_LEGATO_WORKFLOW) :]
    return arn_or_name
