"""``legato dev --no-worker`` decides, ``legato worker`` processes run the steps; a worker that
dies mid-step loses its lease and the step runs again on another worker."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import legato
from tests.processes import Processes

HERE = Path(__file__).parent
LEGATO = [sys.executable, "-m", "legato.cli"]


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_step_of_a_killed_worker_runs_again_on_another_worker(
    tmp_path: Path, processes: Processes, wait_for: Callable[..., Awaitable[None]]
) -> None:
    log = tmp_path / "remote.log"
    env = {
        "PYTHONPATH": str(HERE),
        "REMOTE_LOG": str(log),
        "LEGATO_DB": f"sqlite:///{tmp_path / 'remote.db'}",
    }
    processes.spawn("dev", [*LEGATO, "dev", "remote_app", "--no-worker"], env=env)
    first = processes.spawn(
        "worker", [*LEGATO, "worker", "remote_app", "--concurrency", "4"], env=env
    )

    sys.path.insert(0, str(HERE))
    try:
        import remote_app  # type: ignore[import-not-found]  # loaded from this folder
    finally:
        sys.path.remove(str(HERE))
    client = remote_app.app
    client.configure(url=env["LEGATO_DB"])
    try:
        handle = await client.start(remote_app.remote, "job", id="remote-1")

        async def first_attempt_runs() -> bool:
            return log.exists() and "attempt=1" in log.read_text()

        await wait_for(first_attempt_runs, limit=60)  # the processes start up first
        processes.kill(first)
        processes.spawn("worker", [*LEGATO, "worker", "remote_app"], env=env)
        result = await handle.result(timeout=60)
        assert result == "job-done-on-attempt-2/42"
        lines = log.read_text().splitlines()
        assert [line.split()[1] for line in lines] == ["attempt=1", "attempt=2"]
        assert {line.split()[0] for line in lines} == {"remote-1:2"}  # one idempotency key
        assert lines[0].split()[2] != lines[1].split()[2]  # two different worker processes
        status = await handle.status()
        assert status.status == legato.Status.COMPLETED
    finally:
        await client.shutdown()
