"""Which ``aws-sdk`` services and actions exist, read from botocore's service models (the
developer guide, "Learning to use AWS service SDK integrations in Step Functions").

Step Functions names a service as the AWS SDK for Java 2.x names its package: the model's
``serviceId`` lowercased, without spaces and hyphens (``DynamoDB`` → ``dynamodb``,
``CloudWatch Logs`` → ``cloudwatchlogs``, ``SFN`` → ``sfn``), while botocore names it by the
model's folder (``logs``, ``stepfunctions``). An action is the operation's name in camelCase
(``GetObject`` → ``getObject``). Errors are ``<Service>.<ExceptionName>`` with the service as the
SDK's client class spells it (``DynamoDb``, ``AcmPca``, ``CloudWatchLogs``): :func:`error_service`.

Reading every model takes seconds (400-odd files), so a name is first tried directly (most
Step Functions names are botocore's or botocore's without its hyphens, and a few known renames
are hinted), and every model is read only when that fails: to find a renamed service, or to
name the nearest one in an error. What was read is kept for the life of the process
(:func:`sdk_catalog`)."""

from __future__ import annotations

import difflib
import functools
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # botocore is imported on first use: `import legato` stays light
    from botocore.loaders import Loader

#: Step Functions names whose botocore name differs, tried before reading every model
_HINTS = {
    "sfn": "stepfunctions",
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
    "bedrockruntime": "bedrock-runtime",
    "elasticloadbalancingv2": "elbv2",
    "elasticloadbalancing": "elb",
    "costexplorer": "ce",
}
_MODEL = "service-2"
_FOLDER = re.compile(r"^[a-z0-9-]+$")
#: where a serviceId word splits: ``DynamoDB`` → Dynamo|DB, ``APIGateway`` → API|Gateway,
#: ``SESv2`` → SES|v2
_WORD_BOUNDARY = re.compile(
    r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z](?![0-9]))|(?<=[A-Z])(?=v\d)"
)


def sfn_service_name(service_id: str) -> str:
    """The name Step Functions gives the service whose model's ``serviceId`` is this."""
    return re.sub(r"[\s_-]", "", service_id).lower()


def error_service(service_id: str) -> str:
    """The service part of an ``aws-sdk`` error name: the serviceId's words, each capitalised
    and the rest lowercased, as the AWS SDK for Java 2.x names its client (``DynamoDB`` →
    ``DynamoDb``, ``ACM PCA`` → ``AcmPca``, ``S3`` → ``S3``, ``SFN`` → ``Sfn``)."""
    words: list[str] = []
    for chunk in re.split(r"[\s_-]+", service_id):
        words += [w for w in _WORD_BOUNDARY.split(chunk) if w]
    return "".join(w[:1].upper() + w[1:].lower() for w in words)


def action_name(operation: str) -> str:
    """An operation (``GetObject``) as a Resource's action names it (``getObject``)."""
    return operation[:1].lower() + operation[1:]


@dataclass(frozen=True)
class SdkService:
    """One service as the ``aws-sdk`` integration sees it."""

    name: str
    """Step Functions' name: ``dynamodb``, ``sfn``, ``cloudwatchlogs``"""
    botocore: str
    """botocore's name, for ``create_client``: ``dynamodb``, ``stepfunctions``, ``logs``"""
    error_prefix: str
    """the service part of its error names: ``DynamoDb``, ``Sfn``, ``CloudWatchLogs``"""
    operations: frozenset[str]
    """its operations, PascalCase as botocore names them: ``PutItem``"""

    def operation(self, action: str) -> str | None:
        """The operation a Resource's ``action`` names (``getObject`` → ``GetObject``)."""
        operation = action[:1].upper() + action[1:]
        if action[:1].islower() and operation in self.operations:
            return operation
        return None


class UnknownSdkName(LookupError):
    """An ``aws-sdk`` service or action that botocore's models do not have; the message names
    the nearest valid one."""


class BotocoreCatalog:
    """Services and actions of the ``aws-sdk`` integration, from botocore's data files."""

    def __init__(self, loader: Loader | None = None) -> None:
        self._given = loader  # else botocore's, made when a name is first looked up
        self._lock = threading.Lock()
        self._services: dict[str, SdkService | None] = {}
        self._index: dict[str, str] | None = None  # Step Functions name -> botocore name

    def _loader(self) -> Loader:
        if self._given is None:
            from botocore.loaders import create_loader

            self._given = create_loader()
        return self._given

    def service(self, name: str) -> SdkService:
        """The service Step Functions calls ``name``, or :class:`UnknownSdkName`."""
        with self._lock:
            if name not in self._services:
                self._services[name] = self._find(name)
            found = self._services[name]
        if found is None:
            raise UnknownSdkName(self._unknown_service(name))
        return found

    def resolve(self, name: str, action: str) -> tuple[SdkService, str]:
        """The service and the PascalCase operation of ``aws-sdk:name:action``."""
        service = self.service(name)
        operation = service.operation(action)
        if operation is None:
            raise UnknownSdkName(_unknown_action(service, action))
        return service, operation

    def problem(self, service: str, action: str) -> str | None:
        """Why ``aws-sdk:service:action`` cannot be called, or None (``core``'s validator asks
        this through its ``SdkCatalog`` protocol)."""
        try:
            self.resolve(service, action)
        except UnknownSdkName as exc:
            return str(exc)
        return None

    def _find(self, name: str) -> SdkService | None:
        if not _FOLDER.match(name):
            return None
        folders = self._loader().list_available_services(_MODEL)  # a directory listing: cheap
        unhyphenated = [f for f in folders if f.replace("-", "") == name]
        for candidate in dict.fromkeys((_HINTS.get(name, name), name, *unhyphenated)):
            found = self._load(candidate)
            if found is not None and found.name == name:
                return found
        botocore_name = self._full_index().get(name)
        return self._load(botocore_name) if botocore_name else None

    def _load(self, botocore_name: str) -> SdkService | None:
        from botocore.exceptions import DataNotFoundError

        try:
            model = self._loader().load_service_model(botocore_name, _MODEL)
        except DataNotFoundError:
            return None
        service_id = str(model["metadata"].get("serviceId") or botocore_name)
        return SdkService(
            sfn_service_name(service_id),
            botocore_name,
            error_service(service_id),
            frozenset(model["operations"]),
        )

    def _full_index(self) -> dict[str, str]:
        """Every service's Step Functions name → botocore name. A fresh loader reads the
        models, so the 400-odd parsed models are not kept (botocore's loader caches each)."""
        if self._index is None:
            from botocore.loaders import create_loader

            loader = create_loader()
            index: dict[str, str] = {}
            for botocore_name in loader.list_available_services(_MODEL):
                model = loader.load_service_model(botocore_name, _MODEL)
                service_id = str(model["metadata"].get("serviceId") or botocore_name)
                index.setdefault(sfn_service_name(service_id), botocore_name)
            self._index = index
        return self._index

    def _unknown_service(self, name: str) -> str:
        same_folder = self._load(name) if _FOLDER.match(name) else None  # botocore's name
        if same_folder is not None:
            near = [same_folder.name]
        else:
            names = sorted(self._full_index())
            near = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return (
            f"{name!r} is not an AWS SDK service known to botocore (Step Functions names a "
            f"service by its SDK id in lowercase, without spaces or hyphens){hint}"
        )


def _unknown_action(service: SdkService, action: str) -> str:
    actions = sorted(action_name(op) for op in service.operations)
    folded = {a.lower(): a for a in actions}
    near = folded.get(action.lower()) or next(
        iter(difflib.get_close_matches(action, actions, n=1, cutoff=0.6)), None
    )
    hint = f"; did you mean {near!r}?" if near else ""
    return (
        f"{action!r} is not an action of the AWS SDK service {service.name!r} (actions are "
        f"the API's operations in camelCase){hint}"
    )


@functools.cache
def sdk_catalog() -> BotocoreCatalog:
    """The process's catalog: what it has read is kept for every app and validation."""
    return BotocoreCatalog()
