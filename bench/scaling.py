"""Worker scaling: W1 on PostgreSQL with 1, 2 and 4 separate ``legato worker`` processes.

For each worker count W the run creates a fresh database ``legato_bench_<random>`` (bench/pgdb.py)
and starts, as subprocesses of this one (``PYTHONPATH=bench``, app module bench/bench_app.py):

    .venv/bin/legato dev bench_app --db URL --no-worker              # orchestrator only
    .venv/bin/legato worker bench_app --db URL --concurrency 100     # x W

Then a client in this process -- ``legato.App(url)`` *without* ``async with``, i.e. client mode:
``await app.start(...)`` only records the execution for the engine processes to pick up, and
``await handle.result()`` polls the database -- starts N executions of K steps together and
waits for all of them. wall = first start -> last result; steps/s = N*K / wall. One JSON line
per worker count (workload "W1-workers", plus "workers" and "cpu_s": the CPU seconds each role
-- orchestrator, each worker, this client, the PostgreSQL backends serving the benchmark
database, and the whole machine -- used during the timed part, which shows where a 2-core
machine's time goes and whether something else was running). All subprocesses are
stopped at the end: SIGTERM, then SIGKILL after 10 s.

    .venv/bin/python bench/scaling.py                 # W = 1 2 4, N=200, K=10, 3 repeats
    .venv/bin/python bench/scaling.py --workers 1 2 --n 50 --k 5 --repeat 1 --db postgresql://...

Reading the numbers: with N=200 and --concurrency 100 one worker cannot hold every execution's
next step, and a worker at capacity is not woken when its own steps finish: it waits for the
next "tasks" notification or its 2 s fallback poll. On the 2-core development machine one worker
with --concurrency 200 was as fast as four with 100, so 1 -> 2 -> 4 here measures capacity and
that wake-up gap more than parallelism (two cores are nearly busy from two workers on).

Each worker count runs --repeat times (fresh database and processes each time); its line is the
median run by wall time, with every run's wall in "wall_s_runs" (each run also goes to stderr).

Client-mode note: the first calls into ``App`` in client mode open its store lazily, and
concurrent first calls race: each opens its own connection pool and writer, and all but one
leak ("Task was destroyed but it is pending!" from psycopg_pool at exit). The client therefore
makes one call (``list_executions``) before starting executions concurrently.

Readiness: every subprocess gets its own PGAPPNAME, and the run waits until each has its
LISTEN connection open (the engine opens it once started), then runs a small untimed warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import bench_app
import pgdb
import psycopg

import legato

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
APP_MODULE = "bench_app"
READY_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    """Progress to stderr; stdout carries only the JSON lines."""
    print(f"[scaling] {msg}", file=sys.stderr, flush=True)


def legato_cli() -> str:
    """The ``legato`` script of the venv running this benchmark, so both use the same Legato."""
    cli = Path(sys.executable).with_name("legato")
    if not cli.exists():
        sys.exit(f"{cli} not found: run this with the project's venv (.venv/bin/python)")
    return str(cli)


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process so far (Linux /proc), to see which role is the bottleneck."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy so far: includes PostgreSQL and anything else running."""
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


@dataclass
class Proc:
    """One engine subprocess, its application name in pg_stat_activity, and its log file."""

    role: str
    appname: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)

    def tail(self, lines: int = 30) -> str:
        """The end of its log, for a failure message."""
        self.log_file.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.rstrip().splitlines()[-lines:])


def spawn(role: str, args: list[str], url: str, tmp: Path, index: int) -> Proc:
    """Start one ``legato`` subprocess with bench/ on its path and output to a log file."""
    appname = f"legato_bench_{role}_{index}"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(BENCH_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["PGAPPNAME"] = appname
    log_path = tmp / f"{appname}.log"
    log_file = log_path.open("wb")
    cmd = [legato_cli(), *args, APP_MODULE, "--db", url]
    popen = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file
    )
    return Proc(role, appname, popen, log_path, log_file)


def stop_all(procs: list[Proc]) -> None:
    """SIGTERM every subprocess, SIGKILL whatever still runs 10 s later; by pid, ours only."""
    for p in procs:
        if p.popen.poll() is None:
            p.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for p in procs:
        try:
            p.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{p.appname} (pid {p.popen.pid}) ignored SIGTERM for {STOP_GRACE_S:.0f}s: SIGKILL")
            p.popen.kill()
            p.popen.wait()
        p.log_file.close()


@contextmanager
def engine_processes(url: str, workers: int, concurrency: int) -> Iterator[list[Proc]]:
    """The orchestrator-only process and ``workers`` worker processes, stopped on exit."""
    procs: list[Proc] = []
    with tempfile.TemporaryDirectory(prefix="legato-scaling-") as d:
        tmp = Path(d)
        try:
            procs.append(spawn("orchestrator", ["dev", "--no-worker"], url, tmp, 0))
            for i in range(workers):
                args = ["worker", "--concurrency", str(concurrency)]
                procs.append(spawn("worker", args, url, tmp, i + 1))
            wait_ready(url, procs)
            yield procs
        except BaseException:
            for p in procs:
                if p.popen.poll() is not None or p.role == "orchestrator":
                    log(f"--- {p.appname} (exit {p.popen.poll()}) log tail ---\n{p.tail()}")
            raise
        finally:
            stop_all(procs)


def wait_ready(url: str, procs: list[Proc]) -> None:
    """Until every process has its LISTEN connection open, i.e. its engine has started."""
    want = {p.appname for p in procs}
    deadline = time.monotonic() + READY_TIMEOUT_S
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            for p in procs:
                if p.popen.poll() is not None:
                    raise RuntimeError(f"{p.appname} exited with {p.popen.returncode}")
            rows = conn.execute(
                "SELECT DISTINCT application_name FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%%'"
            ).fetchall()
            if want <= {r[0] for r in rows}:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {READY_TIMEOUT_S:.0f}s: {sorted(want)}")
            time.sleep(0.05)


def backend_pids(url: str) -> list[int] | None:
    """PostgreSQL backend processes serving the benchmark database (its own connection aside);
    None if they cannot be listed (e.g. the server is out of connection slots)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
    except psycopg.Error as exc:
        log(f"cannot list PostgreSQL backends, their CPU is not counted: {exc}")
        return None
    return [int(r[0]) for r in rows]


def migrate(url: str) -> None:
    """Create the schema before the processes start, so none of them waits on another's
    migration (they would serialise on its advisory lock)."""
    subprocess.run(
        [legato_cli(), "migrate", "--db", url], cwd=REPO_ROOT, check=True, capture_output=True
    )


class CpuSampler:
    """CPU seconds each role used between ``start`` and ``stop``: the engine processes (by pid),
    this client, the PostgreSQL backends serving the benchmark database, and the machine."""

    def __init__(self, url: str, procs: list[Proc]) -> None:
        self.url = url
        self.procs = procs
        self.result: dict[str, Any] = {}
        self.pg_ok = True

    def _snapshot(self) -> dict[str, float]:
        snap = {p.appname: cpu_seconds(p.popen.pid) for p in self.procs}
        pids = backend_pids(self.url)
        if pids is None:
            self.pg_ok = False
        snap.update({f"pg:{pid}": cpu_seconds(pid) for pid in pids or []})
        snap["client"] = time.process_time()
        snap["machine"] = machine_busy_seconds()
        return snap

    def start(self) -> None:
        self._before = self._snapshot()

    def stop(self) -> None:
        """Called before the client closes its connections, so their backends still count."""
        after = self._snapshot()
        d = {key: value - self._before.get(key, 0.0) for key, value in after.items()}
        self.result = {
            "orchestrator": round(sum(v for k, v in d.items() if "orchestrator" in k), 2),
            "workers": [round(v, 2) for k, v in d.items() if "_worker_" in k],
            "client": round(d["client"], 2),
            "postgres": round(sum(v for k, v in d.items() if k.startswith("pg:")), 2)
            if self.pg_ok
            else None,
            "machine_busy": round(d["machine"], 2),  # both cores, whatever ran on them
        }


async def client_run(url: str, n: int, k: int, warmup: int, cpu: CpuSampler) -> float:
    """Warm up, then start N executions of K steps at once and await every result."""
    app = bench_app.register(legato.App(url))
    try:
        # Open the client's store once before starting executions concurrently: concurrent
        # first calls in client mode each open a pool and writer of their own (all but the
        # last leak), see the note in the module docstring.
        await app.list_executions(limit=1)
        warm = await asyncio.gather(*(app.start("sequential", 1) for _ in range(warmup)))
        if await asyncio.gather(*(h.result(timeout=60) for h in warm)) != [1] * warmup:
            raise RuntimeError("wrong warm-up result")
        cpu.start()
        t0 = time.perf_counter()
        handles = await asyncio.gather(*(app.start("sequential", k) for _ in range(n)))
        results = await asyncio.gather(*(h.result(timeout=120) for h in handles))
        wall = time.perf_counter() - t0
        cpu.stop()
        if results != [k] * n:
            raise RuntimeError("Legato returned a wrong workflow result")
        return wall
    finally:
        await app.shutdown()


def measure(server: str, workers: int, n: int, k: int, concurrency: int) -> dict[str, Any]:
    """One worker count on its own fresh database; returns its JSON line."""
    with pgdb.fresh_database(server) as url:
        migrate(url)
        with engine_processes(url, workers, concurrency) as procs:
            log(f"workers={workers}: {len(procs)} processes ready; n={n} k={k}")
            cpu = CpuSampler(url, procs)
            wall = asyncio.run(client_run(url, n, k, 2 * workers, cpu))
    return {
        "workload": "W1-workers",
        "backend": "legato-postgres",
        "workers": workers,
        "N": n,
        "K": k,
        "wall_s": round(wall, 4),
        "steps_per_s": round(n * k / wall, 1),
        "p50_ms": None,
        "p99_ms": None,
        "cpu_s": cpu.result,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure each worker count in turn and print one JSON line per count."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--n", type=int, default=200, help="executions started together")
    p.add_argument("--k", type=int, default=10, help="sequential steps per execution")
    p.add_argument("--concurrency", type=int, default=100, help="legato worker --concurrency")
    p.add_argument("--repeat", type=int, default=3, help="runs per worker count; median shown")
    p.add_argument("--db", default=pgdb.server_url(), help="PostgreSQL server URL (%(default)s)")
    args = p.parse_args(argv)
    if not pgdb.is_postgres(args.db):
        p.error("--db takes a postgresql:// URL")
    if args.repeat < 1 or args.n < 1 or args.k < 1 or min(args.workers) < 1:
        p.error("--repeat, --n, --k and --workers must be at least 1")
    for workers in args.workers:
        runs = []
        for _ in range(args.repeat):
            runs.append(measure(args.db, workers, args.n, args.k, args.concurrency))
            log(json.dumps(runs[-1]))
        out = median_run(runs)
        print(json.dumps(out), flush=True)
    return 0


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time (its CPU figures belong to it), plus every run's wall;
    the median of an even count is the slower middle run, a real run rather than an average."""
    ordered = sorted(runs, key=lambda r: float(r["wall_s"]))
    out = dict(ordered[len(ordered) // 2])
    out["repeats"] = len(runs)
    out["wall_s_runs"] = [r["wall_s"] for r in runs]
    return out


if __name__ == "__main__":
    sys.exit(main())
