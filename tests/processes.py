"""The seed and the subprocesses of the tests that kill processes or draw random numbers.

Such a test takes its seed from ``LEGATO_TEST_SEED`` (a fresh one when unset) and passes it
down to every process it starts, so a failure can be replayed:
``LEGATO_TEST_SEED=1234 pytest tests/integration/test_crash.py``. Each subprocess writes its
stdout and stderr to a file under the test's ``tmp_path``. The ``seed`` and ``processes``
fixtures (``tests/conftest.py``) add the seed and the tail of every log to the report of a
test that fails.

The apps the tests start run as plain scripts and import nothing from here: they read the two
variables below themselves and draw from ``random.Random(f"{seed}/{name}")``.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SEED_VARIABLE = "LEGATO_TEST_SEED"
PROCESS_VARIABLE = "LEGATO_TEST_PROCESS"  # the name a process was started under, e.g. run-3
TAIL_CHARS = 8_000


def seed_from_environment() -> int:
    """``LEGATO_TEST_SEED`` if set, else a fresh random seed."""
    given = os.environ.get(SEED_VARIABLE)
    return int(given) if given else random.SystemRandom().randrange(2**32)


def lines_of(path: Path) -> list[str]:
    """The words a step log holds (one step name a line), or none yet."""
    return path.read_text().split() if path.exists() else []


def tail(path: Path, chars: int = TAIL_CHARS) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text if len(text) <= chars else f"[... {len(text) - chars} characters]\n{text[-chars:]}"


@dataclass
class Started:
    """One process started: its unique name, command, log file, and whether the test killed it."""

    name: str
    args: list[str]
    proc: subprocess.Popen[bytes]
    log: Path
    killed: bool = False


@dataclass
class Processes:
    """Starts subprocesses with the test's seed in their environment and their output in
    ``logs/NAME-N.log``; ``stop_all`` ends whatever still runs."""

    logs: Path
    seed: int
    started: list[Started] = field(default_factory=list, repr=False)

    def spawn(
        self, name: str, args: list[str], *, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``args`` as process ``name`` (a name used again gets ``-2``, ``-3``...)."""
        count = sum(1 for s in self.started if s.name.rpartition("-")[0] == name) + 1
        unique = f"{name}-{count}"
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{unique}.log"
        environment = {
            **os.environ,
            **(env or {}),
            SEED_VARIABLE: str(self.seed),
            PROCESS_VARIABLE: unique,
        }
        with log.open("wb") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=environment)
        self.started.append(Started(unique, args, proc, log))
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL and reap."""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        self._find(proc).killed = True

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return tail(self._find(proc).log)

    async def kill_on_progress(
        self,
        args: list[str],
        env: dict[str, str],
        *,
        runs: int,
        progress: Path,
        most_lines: int,
        rng: random.Random,
        wait_for: Callable[..., Awaitable[None]],
    ) -> int:
        """Start ``args`` ``runs`` times and SIGKILL each run once it has appended 1 to
        ``most_lines`` (a seeded draw) lines to ``progress``, then a random moment later:
        kills land on logged progress, not on wall time. Returns how many kills landed."""
        kills = 0
        for _ in range(runs):
            due = len(lines_of(progress)) + rng.randint(1, most_lines)
            proc = self.spawn("run", args, env=env)

            async def progressed(proc: subprocess.Popen[bytes] = proc, due: int = due) -> bool:
                if proc.poll() is not None:
                    pytest.fail(f"the app exited before its kill:\n{self.log_of(proc)}")
                return len(lines_of(progress)) >= due

            await wait_for(progressed, limit=60)
            # then a random moment later: where the kill lands, not whether the test passes
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            self.kill(proc)
            kills += 1
        return kills

    def stop_all(self) -> None:
        """SIGTERM what still runs, SIGKILL it if it does not stop within 10 s."""
        running = [s.proc for s in self.started if s.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        for proc in running:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def report(self) -> str:
        """Every process started, how it ended, and the tail of its log."""
        parts = []
        for s in self.started:
            code = s.proc.poll()
            ended = "still running" if code is None else f"exit code {code}"
            how = "killed by the test" if s.killed else ended
            header = f"== {s.name} (pid {s.proc.pid}, {how}): {' '.join(s.args)}"
            parts.append(f"{header}\n-- {s.log}\n{tail(s.log)}")
        return "\n".join(parts) if parts else "(no subprocess was started)"

    def _find(self, proc: subprocess.Popen[bytes]) -> Started:
        return next(s for s in self.started if s.proc is proc)
