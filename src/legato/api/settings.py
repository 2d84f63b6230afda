"""How the API is served: where it binds, and the limits it enforces."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8233
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class ApiSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: a request body larger than this is refused with 413 before it is read whole
    max_body_bytes: int = 4 * 1024 * 1024
    #: an input, output, signal payload or task result larger than this is refused (422,
    #: ``payload-too-large``) until large payloads are stored outside the history
    inline_payload_bytes: int = 256 * 1024
    #: every request needs ``Authorization: Bearer <key>``; forced on off loopback
    require_keys: bool = False

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK or self.host.startswith("127.")

    @property
    def keys_required(self) -> bool:
        return self.require_keys or not self.loopback

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def parse_bind(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[::1]:PORT`` or ``:PORT`` (loopback)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"--http must be HOST:PORT (for example 127.0.0.1:8233), not {text!r}")
    host = host.strip("[]") or DEFAULT_HOST
    return host, int(port)
