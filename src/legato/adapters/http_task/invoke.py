"""One HTTP Task call, end to end: the connection the arguments name, the request, the
credentials, the send under the app's address policy, and the result or the error named as
Step Functions names it (``NamedStepError``, so the state's Retry and Catch match it):

* ``States.Http.StatusCode.<code>``: the API answered a status other than 2xx;
* ``States.Http.Socket``: no answer (connection refused or reset, DNS failure, TLS failure,
  the 60-second limit);
* ``States.Permissions``: the address is refused (``addresses``); Legato's name, since Step
  Functions never calls private addresses. A Retry on ``States.Http.Socket`` does not retry it;
* ``States.Runtime``: the arguments are not a request, or name a connection the app lacks;
* ``States.TaskFailed``: anything else (a token endpoint that gives no token, a body that is
  not text, too many redirects).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from legato.adapters.http_task.addresses import AddressPolicy
from legato.adapters.http_task.connections import (
    Auth,
    HttpConnection,
    OAuthClientCredentials,
    connections_of,
)
from legato.adapters.http_task.oauth import TokenError, Tokens
from legato.adapters.http_task.outbound import (
    BadTarget,
    BodyTooLarge,
    Outbound,
    Outgoing,
    Received,
    RefusedAddress,
    Resolver,
    system_resolver,
)
from legato.adapters.http_task.request import RequestError, build
from legato.adapters.http_task.response import TASK_FAILED, result_of
from legato.core.asl.validate_http import connection_name, http_problems
from legato.errors import NamedStepError

SOCKET = "States.Http.Socket"
PERMISSIONS = "States.Permissions"
RUNTIME = "States.Runtime"
DATA_LIMIT = "States.DataLimitExceeded"


class HttpTasks:
    """An app's HTTP Task client: its connections, its allow-list, its cached tokens."""

    def __init__(
        self,
        connections: Mapping[str, HttpConnection | Auth] | None = None,
        allow: Iterable[str] = (),
        resolver: Resolver = system_resolver,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self.connections = connections_of(connections)
        allowed = [allow] if isinstance(allow, str) else list(allow)  # one entry given bare
        self.outbound = Outbound(AddressPolicy(allowed), resolver, verify=verify)
        self.tokens = Tokens(self._checked_send)

    async def invoke(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The Task's result for its evaluated arguments ``params``."""
        problems = http_problems(params)
        if problems:
            raise NamedStepError(RUNTIME, "; ".join(f"{at}: {rule}" for at, rule in problems))
        name, connection = self._connection(params)
        try:
            request = build(params, connection)
        except RequestError as exc:
            raise NamedStepError(RUNTIME, str(exc)) from None
        return result_of(await self._send(request, name, connection))

    def _connection(self, params: Mapping[str, Any]) -> tuple[str, HttpConnection | None]:
        reference = (params.get("Authentication") or {}).get("ConnectionArn")
        if reference is None:
            return "", None
        name = connection_name(reference)
        found = self.connections.get(name)
        if found is None:
            known = ", ".join(sorted(self.connections)) or "none"
            raise NamedStepError(
                RUNTIME,
                f"no HTTP connection named {name!r} (from {reference}) is configured in the app "
                f"(App(http_connections={{{name!r}: HttpConnection(...)}}); configured: {known})",
            )
        return name, found

    async def _send(
        self, request: Outgoing, name: str, connection: HttpConnection | None
    ) -> Received:
        oauth = connection.auth if connection is not None else None
        if not isinstance(oauth, OAuthClientCredentials):
            return await self._checked_send(request)
        request.headers["Authorization"] = f"Bearer {await self._token(name, oauth)}"
        received = await self._checked_send(request)
        if received.status == 401:  # revoked before its expiry? once more with a new token
            self.tokens.forget(name)
            request.headers["Authorization"] = f"Bearer {await self._token(name, oauth)}"
            received = await self._checked_send(request)
        return received

    async def _token(self, name: str, oauth: OAuthClientCredentials) -> str:
        try:
            return await self.tokens.token(name, oauth)
        except TokenError as exc:
            raise NamedStepError(TASK_FAILED, f"connection {name!r}: {exc}") from None
        except NamedStepError as exc:
            raise NamedStepError(exc.error, f"connection {name!r}: {exc.cause}") from None

    async def _checked_send(self, request: Outgoing) -> Received:
        return await send(self.outbound, request)


async def send(outbound: Outbound, request: Outgoing) -> Received:
    """``outbound.send`` with its failures as the Task's errors."""
    try:
        return await outbound.send(request)
    except RefusedAddress as exc:
        raise NamedStepError(PERMISSIONS, f"{request.url}: {exc}") from None
    except BadTarget as exc:
        raise NamedStepError(TASK_FAILED, str(exc)) from None
    except (httpx.InvalidURL, UnicodeEncodeError) as exc:  # a header or URL httpx cannot send
        raise NamedStepError(RUNTIME, f"{request.url}: the request cannot be sent: {exc}") from None
    except BodyTooLarge as exc:
        raise NamedStepError(DATA_LIMIT, f"{request.url}: {exc}") from None
    except httpx.TimeoutException:
        raise NamedStepError(SOCKET, f"{request.url}: no answer within the time limit") from None
    except (httpx.TransportError, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        raise NamedStepError(SOCKET, f"{request.url}: {reason}") from None
