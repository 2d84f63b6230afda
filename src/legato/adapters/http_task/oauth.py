"""OAuth client-credentials tokens (RFC 6749, section 4.4), fetched from each connection's
token endpoint and kept until shortly before they expire, so that a workflow calling an API a
thousand times asks for a token once. The token endpoint is called through the same checked
sender as the API (a token URL is an address like any other). A 401 from the API drops
the token (``forget``): the issuer may have revoked it early.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from legato.adapters.http_task.connections import OAuthClientCredentials
from legato.adapters.http_task.outbound import Outgoing, Received

EARLY_SECONDS = 30.0  # renew this long before the token's expiry: a call takes time
DEFAULT_LIFETIME = 300.0  # a token whose response gives no expires_in


class TokenError(Exception):
    """The token endpoint did not give a token."""


@dataclass(frozen=True)
class _Token:
    value: str
    expires: float  # time.monotonic()


class Tokens:
    """The tokens of one app's OAuth connections, by connection name."""

    def __init__(self, send: Callable[[Outgoing], Awaitable[Received]]) -> None:
        self.send = send
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self.fetches = 0  # how many token requests were sent (for tests and metrics)

    async def token(self, name: str, oauth: OAuthClientCredentials) -> str:
        # one fetch at a time per connection: concurrent calls share the answer
        # (a lock per event loop: an app may be used from more than one, one after another)
        lock = self._locks.setdefault((id(asyncio.get_running_loop()), name), asyncio.Lock())
        async with lock:
            held = self._tokens.get(name)
            if held is not None and time.monotonic() < held.expires:
                return held.value
            token = await self._fetch(oauth)
            self._tokens[name] = token
            return token.value

    def forget(self, name: str) -> None:
        self._tokens.pop(name, None)

    async def _fetch(self, oauth: OAuthClientCredentials) -> _Token:
        form = {"grant_type": "client_credentials", **oauth.params}
        if oauth.scope:
            form["scope"] = oauth.scope
        secret = base64.b64encode(f"{oauth.client_id}:{oauth.client_secret}".encode()).decode()
        request = Outgoing(
            "POST",
            oauth.token_url,
            {
                "Authorization": f"Basic {secret}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            urlencode(form).encode(),
            private_headers=frozenset({"authorization"}),
        )
        self.fetches += 1
        received = await self.send(request)
        where = f"the token endpoint {oauth.token_url}"
        if not 200 <= received.status < 300:
            raise TokenError(
                f"{where} answered {received.status} {received.reason}: "
                f"{received.body[:500].decode('utf-8', 'replace')}"
            )
        try:
            answer = json.loads(received.body)
            value = answer["access_token"]
        except (ValueError, KeyError, TypeError):
            raise TokenError(f"{where} gave no access_token in a JSON object") from None
        if not isinstance(value, str) or not value:
            raise TokenError(f"{where} gave an access_token that is not text")
        lifetime = answer.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else DEFAULT_LIFETIME
        return _Token(value, time.monotonic() + max(0.0, seconds - EARLY_SECONDS))
