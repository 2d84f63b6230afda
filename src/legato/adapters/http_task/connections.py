"""Named HTTP connections: what Legato uses where a Step Functions definition names an
EventBridge connection (``Authentication.ConnectionArn``). The app configures them
(``App(http_connections={"orders-api": HttpConnection(...)})``) so that secrets stay out of
definitions, as EventBridge keeps them in Secrets Manager.

The three authorization types are EventBridge's (EventBridge user guide, "Connections for HTTP
endpoint targets"): an API key sent as a header, HTTP Basic, and OAuth client credentials whose
token Legato fetches from the token endpoint and caches. A connection may also carry headers,
query parameters and body fields added to every request (EventBridge's invocation HTTP
parameters); they win over the definition's on the same key, as in EventBridge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from legato.errors import ConfigurationError


@dataclass(frozen=True)
class ApiKeyAuth:
    """An API key sent as the header ``header`` (EventBridge's ``ApiKeyName``)."""

    header: str
    value: str = field(repr=False)


@dataclass(frozen=True)
class BasicAuth:
    """HTTP Basic authentication (RFC 7617)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class OAuthClientCredentials:
    """OAuth 2.0 client credentials (RFC 6749, section 4.4): a token from ``token_url``, asked
    with the client's id and secret as HTTP Basic, sent as ``Authorization: Bearer``. ``scope``
    and ``params`` (more form fields, e.g. an ``audience``) go into the token request."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


Auth: TypeAlias = ApiKeyAuth | BasicAuth | OAuthClientCredentials


@dataclass(frozen=True)
class HttpConnection:
    """A connection: its authorization (or none) and what it adds to every request."""

    auth: Auth | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] = field(default_factory=dict, repr=False)


def connections_of(given: Mapping[str, HttpConnection | Auth] | None) -> dict[str, HttpConnection]:
    """The app's connections by name; a bare authorization is a connection with nothing else."""
    found: dict[str, HttpConnection] = {}
    for name, value in (given or {}).items():
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"http_connections: {name!r} is not a connection name")
        if isinstance(value, ApiKeyAuth | BasicAuth | OAuthClientCredentials):
            value = HttpConnection(auth=value)
        if not isinstance(value, HttpConnection):
            raise ConfigurationError(
                f"http_connections[{name!r}] must be an HttpConnection, ApiKeyAuth, BasicAuth "
                f"or OAuthClientCredentials, not {type(value).__name__}"
            )
        found[name] = value
    return found
