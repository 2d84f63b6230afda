"""Sending one HTTP request where only the checked address is reached.

Checking a name and then letting the HTTP library resolve it again leaves a gap (DNS
rebinding: the second answer may differ), and letting the library follow redirects leaves
another (a public URL answering ``302 Location: http://169.254.169.254/``). So this module
resolves the host itself, checks every address (``addresses.AddressPolicy``), and connects to
the checked one: the URL given to httpx carries the address, the ``Host`` header and TLS's
server name (``sni_hostname``, which certificate verification also uses) carry the name.
Redirects are followed here, hop by hop, each hop resolved and checked the same way.

Each request opens its own connection (no pool): the address a name may use is decided per
request, and nothing is left open between attempts for a closing app to clean up. Proxies
from the environment are not used (a proxy would reach the address, not us).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import certifi
import httpx

from legato.adapters.http_task.addresses import AddressPolicy

Resolver = Callable[[str, int], Awaitable[list[str]]]
MAX_REDIRECTS = 10
TIMEOUT_SECONDS = 60.0  # the HTTP Task's limit in Step Functions ("States.Http.Socket")
MAX_BODY_BYTES = 1024 * 1024  # far above a state's 256 KiB output; a bound on memory
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class RefusedAddress(Exception):
    """The request would reach an address the policy refuses."""


class BadTarget(Exception):
    """The URL cannot be requested (scheme, host, port)."""


class BodyTooLarge(Exception):
    """The response body is larger than ``MAX_BODY_BYTES``."""


@dataclass
class Outgoing:
    """A request to send. ``private_headers`` are dropped when a redirect leaves the origin
    (credentials must not follow a redirect to another host)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    private_headers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Received:
    """A response read whole: status, reason, headers (lower-case names, every value), body."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    url: str


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` as the operating system resolves them (``/etc/hosts``, DNS;
    numeric forms such as ``2130706433`` or ``0177.0.0.1`` as ``inet_aton`` reads them)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Outbound:
    """Sends requests under one app's address policy."""

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver = system_resolver,
        timeout: float = TIMEOUT_SECONDS,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        """``verify``: the TLS context that checks servers' certificates (default: the
        public CAs httpx trusts, ``certifi``), made once since loading CAs is slow."""
        self.policy = policy
        self.resolver = resolver
        self.timeout = timeout
        self._verify = verify

    def tls(self) -> ssl.SSLContext:
        if self._verify is None:
            self._verify = ssl.create_default_context(cafile=certifi.where())
        return self._verify

    async def send(self, request: Outgoing) -> Received:
        """Send ``request``, following redirects; raises ``RefusedAddress``, ``BadTarget``,
        ``BodyTooLarge``, or httpx's transport errors (``httpx.TransportError``)."""
        current = request
        for _ in range(MAX_REDIRECTS + 1):
            received = await self._once(current)
            location = dict(received.headers).get("location")
            if received.status not in _REDIRECTS or not location:
                return received
            current = _redirected(current, received.status, urljoin(current.url, location))
        raise BadTarget(f"more than {MAX_REDIRECTS} redirects from {request.url}")

    async def _once(self, request: Outgoing) -> Received:
        parts = urlsplit(request.url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise BadTarget(f"{request.url}: {exc}") from None
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise BadTarget(
                f"only http:// and https:// URLs with a host can be called: {request.url!r}"
            )
        try:  # an international name as DNS, Host and TLS spell it (IDNA)
            host = host.encode("idna").decode("ascii") if not host.isascii() else host
        except UnicodeError as exc:
            raise BadTarget(f"{request.url}: the host is not a valid name: {exc}") from None
        address = await self._checked(host, port)
        literal = f"[{address}]" if ":" in address else address
        target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        named = f"[{host}]" if ":" in host else host
        authority = named if parts.port is None else f"{named}:{parts.port}"
        headers = {**request.headers, "Host": authority}
        extensions: dict[str, object] = {"timeout": httpx.Timeout(self.timeout).as_dict()}
        if parts.scheme == "https":
            extensions["sni_hostname"] = host
        outgoing = httpx.Request(
            request.method,
            target,
            headers=headers,
            content=request.content,
            extensions=extensions,
        )
        async with httpx.AsyncHTTPTransport(verify=self.tls(), retries=0) as transport:
            response = await transport.handle_async_request(outgoing)
            try:
                body = await _read(response)
            finally:
                await response.aclose()
        return Received(
            response.status_code,
            response.reason_phrase,
            list(response.headers.multi_items()),
            body,
            request.url,
        )

    async def _checked(self, host: str, port: int) -> str:
        """The address to connect to: every address ``host`` resolves to must be allowed (a
        name with one private answer among public ones is refused, since which one a later
        resolution gives is not ours to choose)."""
        addresses = await self.resolver(host, port)
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        if self.policy.allows_host(host):
            return addresses[0]
        for address in addresses:
            reason = self.policy.refusal(address)
            if reason is not None:
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise RefusedAddress(
                    f"{shown} is a {reason} address; HTTP Tasks may only call public "
                    f"addresses unless the app allows it: App(http_allow=[{address!r}])"
                )
        return addresses[0]


def _redirected(request: Outgoing, status: int, url: str) -> Outgoing:
    """The next hop, as browsers and httpx do it: 303 (and 301/302 after a POST) becomes a
    GET without a body; 307 and 308 repeat the request. Credentials stay only on the origin."""
    method, content, headers = request.method, request.content, dict(request.headers)
    if status == 303 and method != "HEAD" or status in (301, 302) and method == "POST":
        method, content = "GET", None
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if _origin(url) != _origin(request.url):
        private = {name.lower() for name in request.private_headers}
        headers = {k: v for k, v in headers.items() if k.lower() not in private}
    return Outgoing(method, url, headers, content, request.private_headers)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme, parts.hostname or "", port


async def _read(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the response body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
