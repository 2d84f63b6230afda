"""``Client``: Legato over its HTTP API, for a process that has no database URL.

``legato.Client("http://host:8233", api_key=...)`` does what an ``App`` used as a client does
(``start``, handles with ``result``, ``status``, ``history``, ``signal``, ``cancel``, ...,
``list_executions``, the task-token calls) through a Legato server, on the shared HTTP
transport (``legato.adapters.http.transport``): the API key on every request, problems raised
as the same Legato exceptions ``App`` raises, a server that cannot be reached (a restart, a
deploy) tried again for ``reconnect_seconds``. Handles share ``ExecutionStatus`` and the
outcome errors (``client.outcomes``) with the ``App``'s handles.

A result comes back as JSON (the client has no workflow registry to decode it into the
workflow's annotated type). ``result`` long-polls ``GET /v1/executions/{id}?wait=``: one
request per ``LONG_POLL_SECONDS`` at most while the execution runs, none in between.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from legato.adapters.http.transport import ApiError, Transport
from legato.client.handle import ExecutionStatus
from legato.client.outcomes import RUNNING, error_for
from legato.client.remote_schedules import ScheduleCalls
from legato.core import codec, error_names
from legato.core.asl.validate import Problem
from legato.core.durations import optional_seconds
from legato.core.events import Event, Status, SuspendKind
from legato.core.export import import_history
from legato.errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    ExecutionClosed,
    ExecutionStateError,
    InvalidDefinitionError,
    LegatoError,
    WorkflowTimeoutError,
)

DEFAULT_SERVER = "http://127.0.0.1:8233"
LONG_POLL_SECONDS = 20.0  # one long-poll's wait; well inside the transport's request timeout
YAML_SUFFIXES = (".yaml", ".yml")


def _path(*parts: str) -> str:
    return "/v1/" + "/".join(quote(p, safe="") for p in parts)


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RemoteExecution:
    """An execution as the API answers it (``GET /v1/executions/{id}``): its status, and the
    fields the status does not hold (input, output, labels, kind)."""

    status: ExecutionStatus
    input: Any
    output: Any
    labels: dict[str, str]
    kind: str | None
    suspend_kind: SuspendKind | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> RemoteExecution:
        error = body.get("error") or {}
        now = datetime.now(UTC)
        status = ExecutionStatus(
            id=str(body["id"]),
            workflow=str(body.get("workflow") or ""),
            version=str(body.get("version") or ""),
            status=Status(body["status"]),
            current_step=body.get("current_step"),
            reason=body.get("reason"),
            error_type=error.get("type"),
            error_message=error.get("message"),
            created_at=_time(body.get("created_at")) or now,
            updated_at=_time(body.get("updated_at")) or now,
            closed_at=_time(body.get("closed_at")),
            labels=dict(body.get("labels") or {}),
            started_by=body.get("started_by"),
        )
        kind = body.get("suspend_kind")
        return cls(
            status,
            body.get("input"),
            body.get("output"),
            dict(body.get("labels") or {}),
            body.get("kind"),
            _suspend_kind(kind),
        )


def _suspend_kind(value: Any) -> SuspendKind | None:
    try:
        return SuspendKind(value) if isinstance(value, str) else None
    except ValueError:  # a kind this build does not know yet
        return None


class _Settled:
    """A ``RemoteExecution`` seen as ``client.outcomes.Settled``."""

    def __init__(self, execution: RemoteExecution) -> None:
        self.status = execution.status.status
        self.error_type = execution.status.error_type
        self.error_message = execution.status.error_message
        self.reason = execution.status.reason
        self.suspend_kind = execution.suspend_kind


class RemoteHandle:
    """An execution reached through the API: the same calls as ``legato.Handle``."""

    def __init__(self, client: Client, execution_id: str) -> None:
        self.client = client
        self.id = execution_id

    def __repr__(self) -> str:
        return f"RemoteHandle({self.id!r})"

    async def describe(self, wait: float | None = None) -> RemoteExecution:
        """The execution as the server has it; ``wait``: long-poll until it stops running
        (closed or suspended), at most that many seconds (whole seconds: a fraction is
        rounded up, so the API may take ``wait`` as an integer)."""
        params = None if not wait else {"wait": math.ceil(wait)}
        timeout = None if not wait else wait + self.client.timeout
        body = await self.client.transport.call(
            "GET", _path("executions", self.id), params=params, timeout=timeout
        )
        return RemoteExecution.from_json(body)

    async def status(self) -> ExecutionStatus:
        return (await self.describe()).status

    async def result(self, timeout: float | timedelta | None = None) -> Any:
        """The workflow's return value (as JSON). Raises, as soon as there is none to wait for,
        ``ExecutionSuspended`` or ``ExecutionFailedError`` (or its subclass for the status it
        ended in); ``WorkflowTimeoutError``, saying where the execution stands, once
        ``timeout`` runs out."""
        seconds = optional_seconds(timeout)
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            left = LONG_POLL_SECONDS
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
            execution = await self.describe(wait=max(left, 0.0) or None)
            if execution.status.status.value not in RUNNING:
                if execution.status.status != Status.COMPLETED:
                    raise error_for(self.id, _Settled(execution))
                return execution.output
            if deadline is not None and time.monotonic() >= deadline:
                raise WorkflowTimeoutError(_unfinished(execution, seconds))

    async def history(self) -> list[Event]:
        body = await self.client.transport.call("GET", _path("executions", self.id, "history"))
        exported = {"execution_id": self.id, "workflow": "", "version": "", **body}
        return import_history(exported)[3]

    async def signal(self, name: str, payload: Any = None) -> None:
        await self.client.signal(self.id, name, payload)

    async def cancel(self, reason: str | None = None) -> None:
        await self.client.cancel(self.id, reason)

    async def terminate(self, reason: str | None = None) -> None:
        await self.client.terminate(self.id, reason)

    async def redrive(self) -> None:
        await self.client.redrive(self.id)

    async def resume(self) -> None:
        await self.client.resume(self.id)


def _unfinished(execution: RemoteExecution, seconds: float | None) -> str:
    """What a timed-out wait says, as ``Handle.result`` does."""
    st = execution.status
    said = f"execution {st.id!r} did not finish within {seconds:g}s"
    where = f", current step {st.current_step!r}" if st.current_step else ""
    if st.status == Status.PENDING:
        where += ": no engine has picked it up yet"
    return f"{said}: it is {st.status.value}{where}"


class Client(ScheduleCalls):
    """Legato through a server's HTTP API: ``async with legato.Client(url, api_key=...) as
    client: handle = await client.start("checkout", order_id)``; schedules with
    ``create_schedule``, ``list_schedules``, ... (``client/remote_schedules.py``)."""

    def __init__(
        self,
        url: str = DEFAULT_SERVER,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        reconnect_seconds: float = 60.0,
    ) -> None:
        """``timeout``: seconds one request may take (a long-poll adds its wait);
        ``reconnect_seconds``: how long a call keeps trying a server it cannot reach before it
        raises ``DatabaseUnavailableError``; 0 raises at once."""
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"a Legato server's URL starts http:// or https://: {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.transport = Transport(
            self.url, api_key=api_key, timeout=timeout, reconnect_seconds=reconnect_seconds
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.transport.close()

    # --- executions ---------------------------------------------------------------------------
    async def start(
        self,
        workflow: str,
        *args: Any,
        id: str | None = None,
        version: str | None = None,
        labels: Mapping[str, str] | None = None,
        timeout: float | timedelta | None = None,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> RemoteHandle:
        """Start an execution of a workflow or state machine the server's engines know. A
        state machine's input is its one argument. The same ``id`` (or ``idempotency_key``)
        and input again returns the same execution; other input raises
        ``ExecutionAlreadyExists``. The server checks the input against the workflow's
        parameters (422 ``invalid-input``, naming the field)."""
        return await self.start_with(
            workflow,
            list(args),
            kwargs,
            id=id,
            version=version,
            labels=labels,
            timeout=timeout,
            idempotency_key=idempotency_key,
        )

    async def start_with(
        self,
        workflow: str,
        args: list[Any] | tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        version: str | None = None,
        labels: Mapping[str, str] | None = None,
        timeout: float | timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> RemoteHandle:
        """``start`` with the arguments as a list and a mapping: for keyword arguments named
        as ``start``'s own options (``id``, ``timeout``, ...)."""
        if not isinstance(workflow, str):
            raise ConfigurationError(
                "Client.start takes the workflow's name (the client has no registry)"
            )
        what = f"input of workflow {workflow!r}"
        body: dict[str, Any] = {"workflow": workflow}
        if len(args) == 1 and not kwargs:  # a state machine's input; a code workflow's one
            body["input"] = _json(args[0], what)  # argument
        elif args or kwargs:
            body["args"] = _json(list(args), what)
            body["kwargs"] = _json(dict(kwargs or {}), what)
        if id is None and idempotency_key is None:
            # chosen here, once, as App does: a start retried after its answer was lost finds
            # the execution it did start (same id and input) instead of starting another
            id = str(uuid.uuid4())
        if id is not None:
            body["id"] = id
        if version is not None:
            body["version"] = version
        if labels:
            body["labels"] = dict(labels)
        limit = optional_seconds(timeout)
        if limit is not None:
            if limit <= 0:
                raise ConfigurationError(f"timeout must be > 0 seconds, not {limit}")
            body["timeout_seconds"] = limit
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer = await self.transport.call("POST", "/v1/executions", json=body, headers=headers)
        return RemoteHandle(self, str(answer["id"]))

    def get_handle(self, execution_id: str) -> RemoteHandle:
        return RemoteHandle(self, execution_id)

    async def list_executions(
        self,
        status: Status | str | None = None,
        limit: int = 100,
        *,
        workflow: str | None = None,
        version: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[ExecutionStatus]:
        """Executions, newest first (``limit`` at most), filtered as asked."""
        found: list[ExecutionStatus] = []
        async for execution in self.iter_executions(
            status, workflow=workflow, version=version, labels=labels, page=min(limit, 500)
        ):
            found.append(execution.status)
            if len(found) >= limit:
                break
        return found

    async def iter_executions(
        self,
        status: Status | str | None = None,
        *,
        workflow: str | None = None,
        version: str | None = None,
        labels: Mapping[str, str] | None = None,
        page: int = 100,
    ) -> AsyncIterator[RemoteExecution]:
        """Every matching execution, newest first, a page at a time (the API's cursor)."""
        params: list[tuple[str, Any]] = [("limit", page)]
        if status:
            params.append(("status", Status(status).value))
        if workflow:
            params.append(("workflow", workflow))
        if version:
            params.append(("version", version))
        for k, v in (labels or {}).items():
            params.append(("label", f"{k}={v}"))
        cursor: str | None = None
        while True:
            query = params + ([("cursor", cursor)] if cursor else [])
            body = await self.transport.call("GET", "/v1/executions", params=query)
            for item in body.get("items", []):
                yield RemoteExecution.from_json(item)
            cursor = body.get("next_cursor")
            if not cursor:
                return

    async def signal(self, execution_id: str, name: str, payload: Any = None) -> None:
        """Send a signal; raises ``ExecutionNotFound`` or ``ExecutionClosed``."""
        body = {"payload": _json(payload, f"payload of signal {name!r}")}
        await self.transport.call(
            "POST", _path("executions", execution_id, "signals", name), json=body
        )

    async def cancel(self, execution_id: str, reason: str | None = None) -> None:
        await self.transport.call(
            "POST", _path("executions", execution_id, "cancel"), json={"reason": reason}
        )

    async def terminate(self, execution_id: str, reason: str | None = None) -> None:
        """End it at once, TERMINATED; raises ``ExecutionClosed`` if it had ended."""
        await self._once(
            _path("executions", execution_id, "terminate"),
            {"reason": reason},
            lambda status: status == Status.TERMINATED.value,
        )

    async def redrive(self, execution_id: str) -> RemoteHandle:
        """Continue a FAILED, TIMED_OUT or CANCELLED execution from where it failed."""
        await self._once(_path("executions", execution_id, "redrive"), {}, RUNNING.__contains__)
        return RemoteHandle(self, execution_id)

    async def resume(self, execution_id: str) -> RemoteHandle:
        """Retry a SUSPENDED execution with the code the server's engines run now."""
        await self._once(_path("executions", execution_id, "resume"), {}, RUNNING.__contains__)
        return RemoteHandle(self, execution_id)

    async def _once(self, path: str, body: dict[str, Any], done: Callable[[str], bool]) -> None:
        """An operation that must not act twice, as ``App._retrying_once``: if the server could
        not be reached (or answered 502-504), its answer may be lost after it acted; the
        retry then counts the state it finds (``done(status)``) as this call's own work."""
        try:
            await self.transport.call("POST", path, json=body, retry=False)
            return
        except DatabaseUnavailableError:
            pass
        try:
            await self.transport.call("POST", path, json=body)
        except (ExecutionClosed, ExecutionStateError) as exc:
            if not done(exc.status):
                raise

    # --- task tokens ----------------------------------------------------------------------------
    async def send_task_success(self, token: str, output: Any = None) -> None:
        body = {"token": token, "output": _json(output, "task output")}
        await self.transport.call("POST", "/v1/task-tokens/success", json=body)

    async def send_task_failure(
        self, token: str, error: str = error_names.TASK_FAILED, cause: str = ""
    ) -> None:
        body = {"token": token, "error": error, "cause": cause}
        await self.transport.call("POST", "/v1/task-tokens/failure", json=body)

    async def send_task_heartbeat(self, token: str) -> None:
        await self.transport.call("POST", "/v1/task-tokens/heartbeat", json={"token": token})

    # --- workflows ------------------------------------------------------------------------------
    async def list_workflows(self) -> list[dict[str, Any]]:
        """What the server's engines can start: ``[{name, version, kind, args_schema,
        code_hash}]`` (code workflows and state machine definitions)."""
        body = await self.transport.call("GET", "/v1/workflows")
        items: list[dict[str, Any]] = body.get("items", [])
        return items

    async def get_workflow(self, name: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.transport.call("GET", _path("workflows", name))
        return answer

    # --- definitions ----------------------------------------------------------------------------
    async def push_definition(
        self,
        name: str,
        definition: Mapping[str, Any] | str | Path,
        *,
        version: str | None = None,
    ) -> dict[str, Any]:
        """Register a state machine version (a dict, a .json/.yaml file, or JSON/YAML text);
        the same content again is the version it already has. Returns ``{name, version,
        content_hash, created_at, created}``; raises ``InvalidDefinitionError`` listing
        every problem the server found."""
        content, media = _definition_body(definition)
        params = {"name": name, **({"version": version} if version else {})}
        try:
            answer: dict[str, Any] = await self.transport.call(
                "POST",
                "/v1/definitions",
                content=content,
                params=params,
                headers={"Content-Type": media},
            )
        except ApiError as exc:
            raise _definition_error(exc, name) from None
        return answer

    async def get_definition(self, name: str, version: str | None = None) -> dict[str, Any]:
        """``{name, version, content_hash, created_at, definition}``: the latest version, or
        the one named."""
        path = _path("definitions", name, *(("versions", version) if version else ()))
        answer: dict[str, Any] = await self.transport.call("GET", path)
        return answer

    async def definition_versions(self, name: str) -> list[dict[str, Any]]:
        """``[{version, content_hash, created_at}]`` of ``name``, oldest first; raises
        ``DefinitionNotFound`` (a ``RegistrationError``) if it has none."""
        body = await self.transport.call("GET", _path("definitions", name, "versions"))
        items: list[dict[str, Any]] = body.get("items", [])
        return items

    async def list_definitions(self) -> list[dict[str, Any]]:
        body = await self.transport.call("GET", "/v1/definitions")
        items: list[dict[str, Any]] = body.get("items", [])
        return items

    async def validate_definition(self, definition: Mapping[str, Any] | str | Path) -> Any:
        """``{valid, states, problems: [{path, message}]}`` from the server's validator."""
        content, media = _definition_body(definition)
        return await self.transport.call(
            "POST", "/v1/definitions/validate", content=content, headers={"Content-Type": media}
        )

    # --- events and subscriptions ---------------------------------------------------------------
    async def send_events(self, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """``POST /v1/events``: CloudEvents, one request (one transaction); one result per event
        ``{status, source, id, execution_ids, reason}``. An invalid event is ``ApiError``
        (422 ``invalid-event``) and nothing is taken."""
        body = {"events": [_json(dict(e), "event") for e in events]}
        answer = await self.transport.call("POST", "/v1/events", json=body)
        results: list[dict[str, Any]] = answer["results"]
        return results

    async def publish_event(
        self,
        type: str,
        data: Any = None,
        *,
        source: str = "legato-cli",
        id: str | None = None,
        subject: str | None = None,
    ) -> dict[str, Any]:
        """One event made here (``id``: a new UUID unless given, so a retried request is the
        same event); its result."""
        event: dict[str, Any] = {"specversion": "1.0", "id": id or str(uuid.uuid4()),
                                 "source": source, "type": type, "data": data}  # fmt: skip
        if subject is not None:
            event["subject"] = subject
        (result,) = await self.send_events([event])
        return result

    async def get_event(self, source: str, id: str) -> dict[str, Any]:
        """An event with the executions it started and their status."""
        params = {"source": source, "id": id}
        answer: dict[str, Any] = await self.transport.call("GET", "/v1/events", params=params)
        return answer

    async def create_subscription(
        self,
        name: str,
        event_type: str,
        workflow: str,
        *,
        version: str | None = None,
        filter: str | None = None,
        transform: str | None = None,
    ) -> dict[str, Any]:
        body = {"name": name, "event_type": event_type, "workflow": workflow,
                "version": version, "filter": filter, "transform": transform}  # fmt: skip
        answer: dict[str, Any] = await self.transport.call("POST", "/v1/subscriptions", json=body)
        return answer

    async def list_subscriptions(self) -> list[dict[str, Any]]:
        body = await self.transport.call("GET", "/v1/subscriptions")
        items: list[dict[str, Any]] = body.get("items", [])
        return items

    async def get_subscription(self, name: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.transport.call("GET", _path("subscriptions", name))
        return answer

    async def delete_subscription(self, name: str) -> None:
        await self.transport.call("DELETE", _path("subscriptions", name))

    async def dead_letters(self, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
        """``{items: [...], next_cursor}``, newest first."""
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer: dict[str, Any] = await self.transport.call("GET", "/v1/dead-letters",
                                                           params=params)  # fmt: skip
        return answer

    async def redrive_dead_letter(self, letter_id: str) -> dict[str, Any]:
        """The dead letter after its redrive (``redriven_at``, ``redriven_to``)."""
        path = f"/v1/dead-letters/{quote(letter_id, safe='')}/redrive"
        answer: dict[str, Any] = await self.transport.call("POST", path)
        return answer


def _json(value: Any, what: str) -> Any:
    """A value as plain JSON (models, dataclasses, datetimes encoded as ``App`` would)."""
    return codec.loads(codec.dumps(value, what))


def _definition_body(definition: Mapping[str, Any] | str | Path) -> tuple[bytes, str]:
    if isinstance(definition, Mapping):
        return codec.dumps(dict(definition), "definition").encode(), "application/json"
    if isinstance(definition, str):
        text = definition.lstrip()
        if text.startswith("{"):
            return definition.encode(), "application/json"
        if "\n" in text:
            return definition.encode(), "application/yaml"
        definition = Path(definition)
    try:
        data = definition.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read definition {str(definition)!r}: {exc}") from None
    yaml = definition.suffix.lower() in YAML_SUFFIXES
    return data, "application/yaml" if yaml else "application/json"


def _definition_error(exc: ApiError, name: str) -> LegatoError:
    if exc.kind != "invalid-definition":
        return exc
    problems = [
        Problem(str(p.get("path", "$")), str(p.get("message", p.get("rule", ""))))
        for p in exc.body.get("errors") or []
    ]
    return InvalidDefinitionError(problems, f"{name} (refused by the server)")
