"""A local AWS emulator for the integration tests: moto's server (``moto[server]``, a dev
dependency), started once per test session on a free loopback port. Nothing reaches AWS: the
fixture sets fake credentials and a region, and each test points its app at the emulator with
``AwsSettings(endpoint_url=...)`` (or ``AWS_ENDPOINT_URL``).

``reset()`` empties the emulator between tests that need a clean account."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
START_SECONDS = 60.0


@dataclass(frozen=True)
class Emulator:
    """A running moto server: its endpoint and the log it writes."""

    url: str
    log: Path

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        self.moto_api("reset")

    def state_manager(self, action: str, body: dict[str, Any]) -> None:
        """moto's state manager (``set-transition``, ``unset-transition``): how many describe
        calls a job or task of a model takes to move to its next status."""
        self.moto_api(f"state-manager/{action}", body)

    def moto_api(self, path: str, body: dict[str, Any] | None = None) -> None:
        """POST to moto's own API (``/moto-api/PATH``)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/moto-api/{path}", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer within {START_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def aws_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """moto's server on 127.0.0.1, with fake credentials in the environment for the session."""
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **CREDENTIALS},
        )
    try:
        _wait_until_up(url, proc, log)
        yield Emulator(url, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
