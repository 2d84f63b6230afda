"""W5: Legato through its HTTP API.

Two measurements, each on a fresh database (SQLite: a file in a temporary folder; PostgreSQL:
``legato_bench_<random>``, bench/pgdb.py), with the engine in subprocesses of this one
(``PYTHONPATH=bench``, app module bench/bench_app.py):

* **starts**: ``legato dev bench_app --no-worker --http 127.0.0.1:0`` and 16 concurrent HTTP
  clients (one aiohttp connection each, keep-alive) posting ``POST /v1/executions`` (workflow
  ``sequential``, one step) for ``--starts`` starts in all. Each answer comes after the start is
  committed (its first decision included). starts/s = starts / wall; p50/p99 of each
  request's latency. Target on the 2-core development machine: >= 1,000 starts/s.
* **remote worker**: W1 (N executions of K sequential steps, started together by a client
  ``legato.App(url)`` that only records them) with ``legato dev bench_app --no-worker`` deciding
  and one worker running the steps, alternately

      legato worker bench_app --db URL                 # a database worker
      legato worker bench_app --server http://HOST:PORT   # a remote worker, over the API

  steps/s = N*K / wall (first start to last result). Target: the remote worker at >= 50% of
  the database worker's steps/s.

stdout: one JSON line per run, then a summary line per database (medians over repeats, and
``remote_vs_db``). Progress, and the logs of a failed run's processes, go to stderr.

    .venv/bin/python bench/api_bench.py                     # SQLite and PostgreSQL, 3 repeats
    .venv/bin/python bench/api_bench.py --db sqlite --repeat 1
    .venv/bin/python bench/api_bench.py --smoke             # tiny sizes: CI checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
import bench_app
import pgdb
from scaling import legato_cli, migrate

import legato

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
APP_MODULE = "bench_app"
READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
CLIENTS = 16
API_LINE = re.compile(r"API serving on (http://\S+?)[\s(]")


def log(msg: str) -> None:
    """Progress to stderr; stdout carries only the JSON lines."""
    print(f"[api_bench] {msg}", file=sys.stderr, flush=True)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)

    def text(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.text().rstrip().splitlines()[-lines:])


class Processes:
    """The engine subprocesses of one run; stopped (SIGTERM, then SIGKILL) on exit, and their
    logs shown when the run failed."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []

    def spawn(self, name: str, args: list[str]) -> Proc:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(BENCH_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        env["PGAPPNAME"] = f"legato_bench_{name}"
        log_path = self.tmp / f"{name}.log"
        log_file = log_path.open("wb")
        popen = subprocess.Popen(
            [legato_cli(), *args],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
        proc = Proc(name, popen, log_path, log_file)
        self.procs.append(proc)
        return proc

    def api_address(self, proc: Proc) -> str:
        """The address a process logs once its API listens (``--http 127.0.0.1:0``)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            found = API_LINE.search(self.text_of(proc))
            if found:
                return found[1]
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"{proc.name}: no 'API serving on' line in {READY_TIMEOUT_S:.0f}s")

    @staticmethod
    def text_of(proc: Proc) -> str:
        # rich wraps long log lines: join them back so the address reads whole
        return " ".join(proc.text().split())

    def stop(self) -> None:
        for p in self.procs:
            if p.popen.poll() is None:
                p.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for p in self.procs:
            try:
                p.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{p.name} (pid {p.popen.pid}) ignored SIGTERM: SIGKILL")
                p.popen.kill()
                p.popen.wait()
            p.log_file.close()

    def show_logs(self) -> None:
        for p in self.procs:
            log(f"--- {p.name} (exit {p.popen.poll()}) log tail ---\n{p.tail()}")


def start_server(procs: Processes, url: str) -> str:
    """``legato dev --no-worker`` serving the API on a free port; its address."""
    args = ["dev", APP_MODULE, "--db", url, "--no-worker", "--http", "127.0.0.1:0"]
    return procs.api_address(procs.spawn("server", args))


@contextmanager
def fresh_database(kind: str, pg_server: str) -> Iterator[str]:
    if kind == "postgres":
        with pgdb.fresh_database(pg_server) as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="legato-api-bench-") as d:
            yield f"sqlite:///{d}/bench.db"


@contextmanager
def processes() -> Iterator[Processes]:
    with tempfile.TemporaryDirectory(prefix="legato-api-bench-logs-") as d:
        procs = Processes(Path(d))
        try:
            yield procs
        except BaseException:
            procs.show_logs()
            raise
        finally:
            procs.stop()


# --- starts through the API ------------------------------------------------------------------
async def post_starts(base: str, total: int, clients: int) -> tuple[float, list[float]]:
    """``total`` starts from ``clients`` concurrent connections; (wall, latencies in ms).

    The load comes from aiohttp, whose client costs a fraction of httpx's per request: on a
    2-core machine the client shares the cores with the server, and a costly client would be
    measured instead of the server."""
    body = {"workflow": "sequential", "args": [1]}
    latencies: list[float] = []
    remaining = total
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base, connector=connector) as session:

        async def one() -> None:
            t0 = time.perf_counter()
            async with session.post("/v1/executions", json=body) as response:
                await response.read()
                if response.status not in (200, 201):
                    text = await response.text()
                    raise RuntimeError(f"start answered {response.status}: {text}")
            latencies.append((time.perf_counter() - t0) * 1000)

        async def one_client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await one()

        for _ in range(2):  # warm-up: connections opened, code paths taken once
            await asyncio.gather(*(one() for _ in range(clients)))
        latencies.clear()
        t0 = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = time.perf_counter() - t0
    return wall, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_starts(kind: str, pg_server: str, total: int) -> dict[str, Any]:
    with fresh_database(kind, pg_server) as url:
        migrate(url)
        with processes() as procs:
            base = start_server(procs, url)
            wall, latencies = asyncio.run(post_starts(base, total, CLIENTS))
    return {
        "workload": "W5-starts",
        "backend": f"legato-{kind}",
        "clients": CLIENTS,
        "N": total,
        "wall_s": round(wall, 4),
        "starts_per_s": round(total / wall, 1),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
    }


# --- W1 with a remote worker beside a database worker -----------------------------------------
async def run_w1(url: str, n: int, k: int) -> float:
    app = bench_app.register(legato.App(url))
    try:
        await app.list_executions(limit=1)  # one store opening before the concurrent starts
        warm = await asyncio.gather(*(app.start("sequential", 1) for _ in range(4)))
        if await asyncio.gather(*(h.result(timeout=READY_TIMEOUT_S) for h in warm)) != [1] * 4:
            raise RuntimeError("wrong warm-up result")
        t0 = time.perf_counter()
        handles = await asyncio.gather(*(app.start("sequential", k) for _ in range(n)))
        results = await asyncio.gather(*(h.result(timeout=300) for h in handles))
        wall = time.perf_counter() - t0
        if results != [k] * n:
            raise RuntimeError("a wrong workflow result")
        return wall
    finally:
        await app.shutdown()


def measure_worker(kind: str, pg_server: str, remote: bool, n: int, k: int) -> dict[str, Any]:
    with fresh_database(kind, pg_server) as url:
        migrate(url)
        with processes() as procs:
            base = start_server(procs, url)
            where = ["--server", base] if remote else ["--db", url]
            procs.spawn("worker", ["worker", APP_MODULE, *where, "--concurrency", "100"])
            wall = asyncio.run(run_w1(url, n, k))
    return {
        "workload": "W5-remote-worker" if remote else "W5-db-worker",
        "backend": f"legato-{kind}",
        "N": n,
        "K": k,
        "wall_s": round(wall, 4),
        "steps_per_s": round(n * k / wall, 1),
        "p50_ms": None,
        "p99_ms": None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--pg-url", default=pgdb.server_url(), help="PostgreSQL server (%(default)s)")
    p.add_argument("--starts", type=int, default=5000, help="starts posted in all")
    p.add_argument("--n", type=int, default=200, help="W1 executions started together")
    p.add_argument("--k", type=int, default=10, help="W1 sequential steps per execution")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat, SQLite")
    args = p.parse_args(argv)
    if args.smoke:
        args.db, args.starts, args.n, args.k, args.repeat = "sqlite", 200, 20, 5, 1
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        starts, db_runs, remote_runs = [], [], []
        for _ in range(args.repeat):
            starts.append(measure_starts(kind, args.pg_url, args.starts))
            print(json.dumps(starts[-1]), flush=True)
            db_runs.append(measure_worker(kind, args.pg_url, False, args.n, args.k))
            print(json.dumps(db_runs[-1]), flush=True)
            remote_runs.append(measure_worker(kind, args.pg_url, True, args.n, args.k))
            print(json.dumps(remote_runs[-1]), flush=True)
        db_rate = statistics.median(r["steps_per_s"] for r in db_runs)
        remote_rate = statistics.median(r["steps_per_s"] for r in remote_runs)
        summary = {
            "summary": "W5",
            "backend": f"legato-{kind}",
            "repeats": args.repeat,
            "starts_per_s": statistics.median(r["starts_per_s"] for r in starts),
            "start_p50_ms": statistics.median(r["p50_ms"] for r in starts),
            "start_p99_ms": statistics.median(r["p99_ms"] for r in starts),
            "db_worker_steps_per_s": db_rate,
            "remote_worker_steps_per_s": remote_rate,
            "remote_vs_db": round(remote_rate / db_rate, 3),
        }
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
