"""Remote workers over HTTP: ``legato server`` decides and serves the API, ``legato worker
--server URL`` runs the steps with no database access (its ``LEGATO_DB`` names a folder that
does not exist). Same lease semantics as a database worker: killed mid-step, the step runs
again once its lease has run out; SIGTERM drains, waits the grace period and gives back what
still runs; a restarted server is ridden through. And Step Functions activities, polled and
answered through the API. Steps append to files (``remote_worker_app``): runs are counted
there."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import legato
from legato.core.events import ExternalTaskFailed, ExternalTaskHeartbeat
from tests.api_process import API_ON
from tests.conftest import of_type
from tests.processes import Processes

HERE = Path(__file__).parent
LEGATO = [sys.executable, "-m", "legato.cli"]
Waiter = Callable[..., Awaitable[None]]
NO_DATABASE = "sqlite:////nonexistent-legato-folder/never.db"
ADDRESS = re.compile(r"API serving on (http://[0-9.]+:\d+)")


def _client(url: str) -> tuple[legato.App, Any]:
    sys.path.insert(0, str(HERE))
    try:
        import remote_worker_app  # type: ignore[import-not-found]  # loaded from this folder
    finally:
        sys.path.remove(str(HERE))
    app: legato.App = remote_worker_app.app
    app.configure(url=url)
    return app, remote_worker_app


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PYTHONPATH": str(HERE),
        "RUNS_LOG": str(tmp_path / "runs.log"),
        "DONE_LOG": str(tmp_path / "done.log"),
        "GATE": str(tmp_path / "gate"),
        "COLUMNS": "250",  # log lines unwrapped
        "LEASE_SECONDS": "1.0",
        **API_ON,
        **extra,
    }


class Cluster:
    """A ``legato server`` on the test's database and remote workers for it."""

    def __init__(
        self, processes: Processes, wait_for: Waiter, tmp_path: Path, url: str, **env: str
    ) -> None:
        self.processes = processes
        self.wait_for = wait_for
        self.tmp_path = tmp_path
        self.url = url
        self.env = _env(tmp_path, **env)
        self.address = ""

    async def server(self, http: str | None = None) -> subprocess.Popen[bytes]:
        args = [*LEGATO, "server", "remote_worker_app", "--verbose"]
        if http is not None:
            args += ["--http", http]
        proc = self.processes.spawn("server", args, env={**self.env, "LEGATO_DB": self.url})

        async def serving() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"the server exited:\n{self.processes.log_of(proc)}")
            return ADDRESS.search(self.processes.log_of(proc)) is not None

        await self.wait_for(serving, limit=60)
        found = ADDRESS.search(self.processes.log_of(proc))
        assert found is not None
        self.address = found.group(1)
        return proc

    def worker(self, *extra: str) -> subprocess.Popen[bytes]:
        args = [*LEGATO, "worker", "remote_worker_app", "--server", self.address, *extra]
        return self.processes.spawn("worker", args, env={**self.env, "LEGATO_DB": NO_DATABASE})

    def runs(self) -> list[tuple[str, int, int]]:
        """(key, attempt, pid) of every attempt that started."""
        return _entries(self.tmp_path / "runs.log")

    def done(self) -> list[tuple[str, int, int]]:
        return _entries(self.tmp_path / "done.log")

    def open_gate(self) -> None:
        (self.tmp_path / "gate").touch()


def _entries(path: Path) -> list[tuple[str, int, int]]:
    text = path.read_text() if path.exists() else ""
    out = []
    for line in text.splitlines():
        key, attempt, pid = line.split()
        out.append((key, int(attempt), int(pid)))
    return out


async def _exits(proc: subprocess.Popen[bytes], wait_for: Waiter) -> int:
    async def ended() -> bool:
        return proc.poll() is not None

    await wait_for(ended, limit=60)
    code = proc.returncode
    assert code is not None
    return code


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_workflows_complete_through_a_remote_worker(
    tmp_path: Path, any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    cluster = Cluster(processes, wait_for, tmp_path, any_db_url)
    cluster.open_gate()
    await cluster.server()
    worker = cluster.worker("--concurrency", "8")
    app, module = _client(any_db_url)
    try:
        handles = [await app.start(module.chain, f"t{i}", 3, id=f"chain-{i}") for i in range(6)]
        for i, handle in enumerate(handles):
            assert await handle.result(timeout=60) == [f"t{i}-0", f"t{i}-1", f"t{i}-2"]
    finally:
        await app.shutdown()
    runs = cluster.runs()
    assert Counter(key for key, _, _ in runs) == {
        f"chain-{i}:{s}": 1 for i in range(6) for s in (1, 2, 3)
    }
    assert {pid for _, _, pid in runs} == {worker.pid}  # the remote worker ran every step
    worker.send_signal(signal.SIGTERM)
    assert await _exits(worker, wait_for) == 0
    said = processes.log_of(worker)
    assert "remote worker remote:" in said and "stopped" in said


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_killed_remote_worker_s_steps_run_again_after_their_lease(
    tmp_path: Path, any_db_url: str, processes: Processes, wait_for: Waiter, seed: int
) -> None:
    """SIGKILL mid-step (a seeded moment: after 1..n steps started): nothing lost, nothing
    completed twice; the steps it held run again, as their next attempt, once their leases
    (1 s) run out, on the worker started after it."""
    rng = random.Random(f"{seed}/remote-kill")
    cluster = Cluster(processes, wait_for, tmp_path, any_db_url)
    await cluster.server()
    first = cluster.worker("--concurrency", "8")
    app, module = _client(any_db_url)
    n = 5
    try:
        handles = [await app.start(module.chain, f"k{i}", 2, id=f"kill-{i}") for i in range(n)]
        due = rng.randint(1, n)

        async def started() -> bool:
            return len(cluster.runs()) >= due

        await wait_for(started, limit=60)
        processes.kill(first)  # mid-step: every step it started waits for the gate
        held = {key for key, _, _ in cluster.runs()}
        cluster.open_gate()
        second = cluster.worker("--concurrency", "8")
        for i, handle in enumerate(handles):
            assert await handle.result(timeout=60) == [f"k{i}-0", f"k{i}-1"]
        for i in range(n):
            assert (await app.get_handle(f"kill-{i}").status()).status == legato.Status.COMPLETED
    finally:
        await app.shutdown()
    done = Counter(key for key, _, _ in cluster.done())
    assert done == {f"kill-{i}:{s}": 1 for i in range(n) for s in (1, 2)}  # each once
    runs = cluster.runs()
    for key in held:  # the killed worker's: again, as the next attempt, on the new worker
        attempts = sorted((attempt, pid) for k, attempt, pid in runs if k == key)
        assert [a for a, _ in attempts] == [1, 2]
        assert attempts[0][1] == first.pid and attempts[1][1] == second.pid
    assert all(pid == second.pid for key, _, pid in cluster.done())


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_sigterm_lets_running_steps_finish_within_the_grace(
    tmp_path: Path, any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    cluster = Cluster(processes, wait_for, tmp_path, any_db_url)
    await cluster.server()
    worker = cluster.worker("--grace-seconds", "60")
    app, module = _client(any_db_url)
    try:
        handles = [await app.start(module.chain, f"g{i}", 1, id=f"grace-{i}") for i in range(3)]

        async def all_started() -> bool:
            return len(cluster.runs()) == 3

        await wait_for(all_started, limit=60)
        worker.send_signal(signal.SIGTERM)

        async def draining() -> bool:
            return "stopping: waiting up to 60s for 3 running steps" in " ".join(
                processes.log_of(worker).split()
            )

        await wait_for(draining, limit=30)
        cluster.open_gate()  # the steps finish within the grace period
        assert await _exits(worker, wait_for) == 0
        for i, handle in enumerate(handles):  # their outcomes were recorded: no other worker
            assert await handle.result(timeout=30) == [f"g{i}-0"]
    finally:
        await app.shutdown()
    assert Counter(key for key, _, _ in cluster.runs()) == {f"grace-{i}:1": 1 for i in range(3)}
    said = " ".join(processes.log_of(worker).split())
    assert "3 steps finished" in said and "released 0 task leases" in said


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_sigterm_past_the_grace_gives_the_leases_back_at_once(
    tmp_path: Path, any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    """Leases of 60 s: the next worker runs the steps long before they could run out."""
    cluster = Cluster(processes, wait_for, tmp_path, any_db_url, LEASE_SECONDS="60")
    await cluster.server()
    first = cluster.worker("--grace-seconds", "0.2")
    app, module = _client(any_db_url)
    try:
        handles = [await app.start(module.chain, f"b{i}", 1, id=f"back-{i}") for i in range(2)]

        async def all_started() -> bool:
            return len(cluster.runs()) == 2

        await wait_for(all_started, limit=60)
        first.send_signal(signal.SIGTERM)
        assert await _exits(first, wait_for) == 0
        said = " ".join(processes.log_of(first).split())
        assert "released 2 task leases" in said
        cluster.open_gate()
        second = cluster.worker()
        for i, handle in enumerate(handles):
            assert await handle.result(timeout=30) == [f"b{i}-0"]
    finally:
        await app.shutdown()
    runs = sorted(cluster.runs())
    assert [(key, attempt) for key, attempt, _ in runs] == [
        ("back-0:1", 1), ("back-0:1", 2), ("back-1:1", 1), ("back-1:1", 2)
    ]  # fmt: skip
    assert {pid for _, attempt, pid in runs if attempt == 2} == {second.pid}


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_a_remote_worker_rides_through_a_server_restart(
    tmp_path: Path, any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    cluster = Cluster(processes, wait_for, tmp_path, any_db_url)
    cluster.open_gate()
    server = await cluster.server()
    address = cluster.address
    worker = cluster.worker()
    app, module = _client(any_db_url)
    try:
        before = await app.start(module.chain, "before", 2, id="before")
        assert await before.result(timeout=60) == ["before-0", "before-1"]
        server.send_signal(signal.SIGTERM)  # the worker's long poll must not hold the stop
        assert await _exits(server, wait_for) == 0
        after = await app.start(module.chain, "after", 2, id="after")
        await cluster.server(http=address.removeprefix("http://"))  # the same address again
        assert await after.result(timeout=90) == ["after-0", "after-1"]
    finally:
        await app.shutdown()
    assert worker.poll() is None  # the same worker, still running
    assert {pid for _, _, pid in cluster.runs()} == {worker.pid}
    assert Counter(key for key, _, _ in cluster.done()) == {
        "before:1": 1, "before:2": 1, "after:1": 1, "after:2": 1
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_an_activity_is_polled_and_answered_through_the_api(
    tmp_path: Path, any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    cluster = Cluster(processes, wait_for, tmp_path, any_db_url, HEARTBEAT_SECONDS="3")
    await cluster.server()
    app, _ = _client(any_db_url)
    arn = "arn:aws:states:us-east-1:123456789012:activity:approval"
    try:
        async with httpx.AsyncClient(base_url=cluster.address, timeout=60) as http:
            empty = await http.post("/v1/activities/approval/poll", json={"wait_seconds": 0})
            assert empty.status_code == 200
            assert empty.json() == {"task_token": None, "input": None}

            done = await app.start("approve", {"order": 7, "note": "x"}, id="approve-1")
            got = (await http.post("/v1/activities/approval/poll", json={})).json()
            assert got["input"] == {"order": 7}  # after the state's Parameters
            token = got["task_token"]
            beat = await http.post("/v1/task-tokens/heartbeat", json={"token": token})
            assert beat.status_code == 204
            answered = await http.post(
                "/v1/task-tokens/success", json={"token": token, "output": {"approved": True}}
            )
            assert answered.status_code == 204
            assert await done.result(timeout=30) == {"approved": True}
            again = await http.post("/v1/task-tokens/success", json={"token": token})
            assert again.status_code == 409  # answered already

            # A poller that stops heartbeating: HeartbeatSeconds (3 s) ends the wait.
            lapsed = await app.start("approve", {"order": 8}, id="approve-2")
            got = (await http.post(f"/v1/activities/{arn}/poll", json={})).json()
            assert got["input"] == {"order": 8}
            assert await lapsed.result(timeout=30) == "lapsed"  # the Catch of the timeout
            history = await lapsed.history()
            failed = of_type(history, ExternalTaskFailed)
            assert [f.error_type for f in failed] == ["States.HeartbeatTimeout"]
            assert of_type(history, ExternalTaskHeartbeat)  # the poll started its clock
            late = await http.post("/v1/task-tokens/success", json={"token": got["task_token"]})
            assert late.status_code == 409
    finally:
        await app.shutdown()
