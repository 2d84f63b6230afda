"""SIGTERM and Ctrl-C of ``legato worker`` and ``legato dev``, as operators send them: running
steps finish within the grace period and their outcomes are recorded, the process gives back
every lease it holds and exits 0, and across the restart no finished step runs again. A step
longer than the grace period is given back and re-run by the next worker at once; a second
signal exits at once. Steps append to files (``shutdown_app``): runs and side effects are
counted there."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import legato
from legato.core.events import StepCompleted
from tests.conftest import of_type
from tests.processes import Processes, lines_of
from tests.rows import task_row

HERE = Path(__file__).parent
LEGATO = [sys.executable, "-m", "legato.cli"]
Waiter = Callable[..., Awaitable[None]]


def _client(url: str) -> legato.App:
    sys.path.insert(0, str(HERE))
    try:
        import shutdown_app  # type: ignore[import-not-found]  # loaded from this folder
    finally:
        sys.path.remove(str(HERE))
    app: legato.App = shutdown_app.app
    app.configure(url=url)
    return app


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return {
        "PYTHONPATH": str(HERE),
        "LEGATO_DB": url,
        "STARTED_LOG": str(tmp_path / "started.log"),
        "DONE_LOG": str(tmp_path / "done.log"),
        "GATE": str(tmp_path / "gate"),
        "COLUMNS": "250",  # log lines unwrapped
        **extra,
    }


def _said(log: str) -> str:
    return " ".join(log.split())


def _runs(tmp_path: Path) -> Counter[str]:
    """Attempts started, by idempotency key (``key attempt pid`` per line)."""
    text = (tmp_path / "started.log").read_text() if (tmp_path / "started.log").exists() else ""
    return Counter(line.split()[0] for line in text.splitlines())


async def _exit_code(proc: subprocess.Popen[bytes], wait_for: Waiter, limit: float = 90) -> int:
    async def exited() -> bool:
        return proc.poll() is not None

    await wait_for(exited, limit=limit)
    code = proc.returncode
    assert code is not None
    return code


async def _log_says(
    processes: Processes, proc: subprocess.Popen[bytes], text: str, wait_for: Waiter
) -> None:
    async def said() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"the process exited before saying {text!r}:\n{processes.log_of(proc)}")
        return text in _said(processes.log_of(proc))

    await wait_for(said, limit=60)


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sigterm_of_a_worker_records_the_running_steps_and_none_runs_again(
    tmp_path: Path, any_db_url: str, processes: Processes, wait_for: Waiter
) -> None:
    env = _env(tmp_path, any_db_url, STEP_SECONDS="5")
    processes.spawn("server", [*LEGATO, "server", "shutdown_app"], env=env)
    worker = processes.spawn(
        "worker", [*LEGATO, "worker", "shutdown_app", "--grace-seconds", "120"], env=env
    )
    client = _client(any_db_url)
    try:
        handles = [await client.start("batch", f"t{i}", id=f"b-{i}") for i in range(3)]

        async def all_running() -> bool:
            return sum(_runs(tmp_path).values()) == 3

        await wait_for(all_running, limit=60)  # the three first steps run (5 s each)
        worker.send_signal(signal.SIGTERM)
        assert await _exit_code(worker, wait_for) == 0
        said = _said(processes.log_of(worker))
        assert "SIGTERM: stopping gracefully" in said
        assert "waiting up to 120s for 3 running steps" in said
        assert "3 steps finished" in said
        assert "released 0 task leases" in said  # each had its outcome written
        assert sorted(lines_of(tmp_path / "done.log")) == ["b-0:1", "b-1:1", "b-2:1"]

        async def decided() -> bool:  # the server records the three outcomes
            histories = [await h.history() for h in handles]
            return all(of_type(h, StepCompleted) for h in histories)

        await wait_for(decided, limit=60)
        processes.spawn("worker", [*LEGATO, "worker", "shutdown_app"], env=env)
        results = [await h.result(timeout=60) for h in handles]
    finally:
        await client.shutdown()
    assert results == [[f"t{i}-a", f"t{i}-b"] for i in range(3)]
    keys = [f"b-{i}:{s}" for i in range(3) for s in (1, 2)]
    assert Counter(lines_of(tmp_path / "done.log")) == Counter(keys)  # each side effect once
    assert _runs(tmp_path) == Counter(keys)  # and each step ran once: none again


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_a_step_longer_than_the_grace_period_is_given_back_and_rerun(
    tmp_path: Path, any_db_url: str, sync: bool, processes: Processes, wait_for: Waiter
) -> None:
    url = any_db_url
    # a lease far longer than the test: a re-run before it ends can only be a lease given back
    env = _env(tmp_path, url, SHUTDOWN_LEASE="600")
    processes.spawn("server", [*LEGATO, "server", "shutdown_app"], env=env)
    worker = processes.spawn(
        "worker", [*LEGATO, "worker", "shutdown_app", "--grace-seconds", "1"], env=env
    )
    client = _client(url)
    try:
        handle = await client.start("batch", "t", sync, id="long")

        async def running() -> bool:
            return bool(_runs(tmp_path))

        await wait_for(running, limit=60)
        worker.send_signal(signal.SIGTERM)
        assert await _exit_code(worker, wait_for) == 0
        said = _said(processes.log_of(worker))
        step = "slow_sync" if sync else "slow"
        assert f"1 step still running after the 1s grace period ({step} long:1)" in said
        assert "released 1 task lease" in said
        if sync:
            assert "exiting without waiting for 1 sync step thread" in said
        row = task_row(url, "long:1")
        assert row is not None  # no outcome, and free for any worker now
        assert (row.state, row.attempt, row.lease_owner, row.outcome) == ("ready", 1, None, None)
        assert lines_of(tmp_path / "done.log") == []

        (tmp_path / "gate").touch()
        processes.spawn("worker", [*LEGATO, "worker", "shutdown_app"], env=env)
        assert await handle.result(timeout=60) == ["t-a", "t-b"]
    finally:
        await client.shutdown()
        processes.stop_all()  # before the test's database goes
    started = (tmp_path / "started.log").read_text().splitlines()
    attempts = [line.split()[:2] for line in started]
    assert attempts == [["long:1", "1"], ["long:1", "2"], ["long:2", "1"]]
    assert started[0].split()[2] != started[1].split()[2]  # re-run by the next worker
    assert Counter(lines_of(tmp_path / "done.log")) == Counter(["long:1", "long:2"])


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_to_dev_commits_the_running_steps_outcome_before_it_exits(
    tmp_path: Path, sig: signal.Signals, processes: Processes, wait_for: Waiter
) -> None:
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    env = _env(tmp_path, url)
    dev_args = [*LEGATO, "dev", "shutdown_app", "--grace-seconds", "120"]
    dev = processes.spawn("dev", dev_args, env=env)
    client = _client(url)
    try:
        handle = await client.start("batch", "t", id="dev-1")

        async def running() -> bool:
            return bool(_runs(tmp_path))

        await wait_for(running, limit=60)
        dev.send_signal(sig)
        await _log_says(processes, dev, "waiting up to 120s for 1 running step", wait_for)
        (tmp_path / "gate").touch()  # the step finishes within the grace period
        assert await _exit_code(dev, wait_for) == 0
        said = _said(processes.log_of(dev))
        assert f"{sig.name}: stopping gracefully" in said and "released 0 task leases" in said

        # decided and committed before the process exited; the next step waits for a worker
        completed = of_type(await handle.history(), StepCompleted)
        assert [(e.ref, e.result) for e in completed] == [(1, '"t-a"')]
        row = task_row(url, "dev-1:2")
        assert row is not None and (row.state, row.lease_owner) == ("ready", None)

        processes.spawn("dev", dev_args, env=env)
        assert await handle.result(timeout=60) == ["t-a", "t-b"]
    finally:
        await client.shutdown()
    assert _runs(tmp_path) == Counter(["dev-1:1", "dev-1:2"])  # nothing ran twice
    assert Counter(lines_of(tmp_path / "done.log")) == Counter(["dev-1:1", "dev-1:2"])


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_second_signal_exits_at_once(
    tmp_path: Path, processes: Processes, wait_for: Waiter
) -> None:
    url = f"sqlite:///{tmp_path / 'db'}"
    env = _env(tmp_path, url)
    dev = processes.spawn(
        "dev", [*LEGATO, "dev", "shutdown_app", "--grace-seconds", "600"], env=env
    )
    client = _client(url)
    try:
        await client.start("batch", "t", id="stuck")

        async def running() -> bool:
            return bool(_runs(tmp_path))

        await wait_for(running, limit=60)
        dev.send_signal(signal.SIGTERM)
        await _log_says(processes, dev, "waiting up to 600s for 1 running step", wait_for)
        dev.send_signal(signal.SIGTERM)  # the step would run for ever: do not wait
        assert await _exit_code(dev, wait_for, limit=30) == 130
    finally:
        await client.shutdown()
    said = _said(processes.log_of(dev))
    assert "SIGTERM again: exiting at once (exit code 130)" in said
    row = task_row(url, "stuck:1")  # not given back: its lease runs out
    assert row is not None and row.lease_owner is not None and row.outcome is None
