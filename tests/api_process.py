"""A ``legato dev`` or ``legato server`` subprocess serving the HTTP API, for tests that call
it as a remote client would. The port is whatever free one the process took
(``API_ON``: ``LEGATO_HTTP=127.0.0.1:0``; ``tests/conftest.py`` turns the API off for the
other tests): it is read from the process's ``API serving on http://...`` log line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.processes import Processes

E2E = Path(__file__).parent / "e2e"
LEGATO = [sys.executable, "-m", "legato.cli"]
_SERVING = re.compile(r"API serving on (http://\S+)")
Waiter = Callable[..., Awaitable[None]]
#: the environment of a process that serves the API, on a free port it names in its log
API_ON = {"LEGATO_HTTP": "127.0.0.1:0"}


async def serve_api(
    processes: Processes,
    wait_for: Waiter,
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    name: str = "api",
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``legato ARGS`` (apps from tests/e2e on its path) and wait until it serves; returns
    the process and the address to send requests to (loopback, whatever it is bound to)."""
    path = os.pathsep.join(p for p in (str(E2E), os.environ.get("PYTHONPATH")) if p)
    environment = {"PYTHONPATH": path, "COLUMNS": "250", **API_ON, **(env or {})}
    proc = processes.spawn(name, [*LEGATO, *args], env=environment)
    found: list[str] = []

    async def serving() -> bool:
        log = processes.log_of(proc)
        if proc.poll() is not None:
            pytest.fail(f"legato {' '.join(args)} exited before serving the API:\n{log}")
        match = _SERVING.search(log)
        if match:
            found.append(match[1])
        return bool(match)

    await wait_for(serving, limit=60)
    return proc, to_loopback(found[0])


def to_loopback(address: str) -> str:
    """Where to reach a server bound to ``address``: one bound to a wildcard (0.0.0.0, ::) is
    reached on loopback, so tests send no traffic off this machine."""
    return address.rstrip("/").replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:")
