"""``legato dev --no-worker`` decides, ``legato worker`` processes run the steps; a worker that
dies mid-step loses its lease and the step runs again on another worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import legato

HERE = Path(__file__).parent
LEGATO = [sys.executable, "-m", "legato.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "REMOTE_LOG": str(tmp_path / "remote.log"),
        "LEGATO_DB": f"sqlite:///{tmp_path / 'remote.db'}",
    }


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _wait_for(predicate: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_step_of_a_killed_worker_runs_again_on_another_worker(
    env: dict[str, str], procs: list[subprocess.Popen[bytes]]
) -> None:
    log = Path(env["REMOTE_LOG"])

    def spawn(*args: str) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(
            [*LEGATO, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        procs.append(p)
        return p

    spawn("dev", "remote_app", "--no-worker")
    first = spawn("worker", "remote_app", "--concurrency", "4")

    sys.path.insert(0, str(HERE))
    try:
        import remote_app
    finally:
        sys.path.remove(str(HERE))
    client = remote_app.app
    client.configure(url=env["LEGATO_DB"])
    try:
        handle = await client.start(remote_app.remote, "job", id="remote-1")
        _wait_for(lambda: log.exists() and "attempt=1" in log.read_text(), 30)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        spawn("worker", "remote_app")
        result = await handle.result(timeout=30)
        assert result == "job-done-on-attempt-2/42"
        lines = log.read_text().splitlines()
        assert [line.split()[1] for line in lines] == ["attempt=1", "attempt=2"]
        assert {line.split()[0] for line in lines} == {"remote-1:2"}  # one idempotency key
        assert lines[0].split()[2] != lines[1].split()[2]  # two different worker processes
        status = await handle.status()
        assert status.status == legato.Status.COMPLETED
    finally:
        await client.shutdown()
