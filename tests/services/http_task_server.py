"""A local HTTP server for the HTTP Task's tests: a real socket on a loopback address, answering
from a small table of routes, and recording every request it got (so a test can show that a
refused request never reached it).

Routes: ``/echo`` (the request as JSON), ``/status/<code>`` (that status with a JSON body),
``/text`` (plain text), ``/binary`` (a PNG's bytes), ``/redirect?to=URL&code=302``, ``/token``
(an OAuth client-credentials token endpoint), ``/protected`` (needs the current bearer token),
``/hang`` (answers once the test sets ``release``).
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "legato-client"
CLIENT_SECRET = "s3cret"


@dataclass
class Seen:
    """One request as the server got it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str


@dataclass
class TokenIssuer:
    """The OAuth side: tokens issued in order, the one ``/protected`` accepts now."""

    issued: int = 0
    valid: str | None = None


@dataclass
class LocalServer:
    host: str
    port: int
    seen: list[Seen] = field(default_factory=list)
    tokens: TokenIssuer = field(default_factory=TokenIssuer)
    release: threading.Event = field(default_factory=threading.Event)  # ends /hang

    def url(self, path: str) -> str:
        literal = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{literal}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        parts = urlsplit(self.path)
        seen = Seen(
            self.command,
            parts.path,
            parts.query,
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        self.server.state.seen.append(seen)
        route = parts.path.strip("/").split("/")
        if route[0] == "echo":
            self._send(200, "application/json", json.dumps(seen.__dict__).encode())
        elif route[0] == "status":
            code = int(route[1])
            payload = json.dumps({"error": f"status {code}"}).encode()
            self._send(code, "application/json", payload)
        elif route[0] == "text":
            self._send(200, "text/plain; charset=utf-8", b"plain words")
        elif route[0] == "binary":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n\x00\x00")
        elif route[0] == "redirect":
            query = parse_qs(parts.query)
            self._send(int(query.get("code", ["302"])[0]), "text/plain", b"", query["to"][0])
        elif route[0] == "hang":
            self.server.state.release.wait(timeout=60)
            self._send(200, "application/json", b"{}")
        elif route[0] == "token":
            self._token(seen)
        elif route[0] == "protected":
            wanted = f"Bearer {self.server.state.tokens.valid}"
            if seen.headers.get("authorization") == wanted:
                self._send(200, "application/json", json.dumps({"ok": True}).encode())
            else:
                self._send(401, "application/json", b'{"error": "unauthorized"}')
        else:
            self._send(404, "application/json", b'{"error": "no such route"}')

    def _token(self, seen: Seen) -> None:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = parse_qs(seen.body)
        if seen.headers.get("authorization") != f"Basic {expected}" or form.get("grant_type") != [
            "client_credentials"
        ]:
            self._send(401, "application/json", b'{"error": "invalid_client"}')
            return
        issuer = self.server.state.tokens
        issuer.issued += 1
        issuer.valid = f"token-{issuer.issued}"
        answer = {"access_token": issuer.valid, "token_type": "Bearer", "expires_in": 3600}
        self._send(200, "application/json", json.dumps(answer).encode())

    def _send(self, code: int, content_type: str, body: bytes, location: str | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "legato-test")
        if location is not None:
            self.send_header("Location", location)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: LocalServer


def serve(
    host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> Generator[LocalServer, None, None]:
    """A server on ``host`` and a free port, for the length of a fixture; HTTPS with ``tls``."""
    server = _Server((host, 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.state = LocalServer(host, server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.state.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
