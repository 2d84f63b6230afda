"""Run the Legato, DBOS and Procrastinate benchmarks side by side and summarise them.

Each measurement is its own subprocess (``sys.executable``), so no two engines
share an interpreter, a thread pool or a database, and every run starts cold in
the same way. Repeats of the engines alternate, so slow drift of the machine
(thermal, page cache, noisy neighbours) hits all alike.

Workloads: W1 "sequential" (N workflows x K steps), W2 "fan-out" (one workflow,
F parallel steps joined; Procrastinate: F jobs drained by one worker, PostgreSQL
only) and W3 "latency" (M one-step workflows, one at a time).

    python bench/run.py                  # SQLite: W1 N=200 K=10, W2 F=1000, W3 M=200, 3 repeats
    python bench/run.py --db postgres    # the same on PostgreSQL, with Procrastinate in W2
    python bench/run.py --db both        # SQLite, then PostgreSQL
    python bench/run.py --smoke          # tiny sizes, 1 repeat, SQLite: CI check that all run
    python bench/run.py --only dbos      # one engine only (ratios are then null)

PostgreSQL runs use the server at --pg-url (default $LEGATO_BENCH_POSTGRES or
postgresql://postgres@127.0.0.1:5432/test); every benchmark run creates a fresh
database there and drops it (bench/pgdb.py).

stdout: every JSON line the benchmarks printed, then one summary line per
(database, workload): medians over repeats and Legato/other ratios. Progress goes
to stderr, with the CPU the whole machine spent during each run: a number far
above the engine's own needs means something else was running, so distrust it.
A benchmark that fails, times out or prints no valid result line makes this
script print that benchmark's stderr tail and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pgdb

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SCRIPTS: dict[str, Path] = {
    "legato": BENCH_DIR / "legato_bench.py",
    "dbos": BENCH_DIR / "dbos_bench.py",
    "procrastinate": BENCH_DIR / "procrastinate_bench.py",
}
ENGINES = ("legato", "dbos", "procrastinate")
WORKLOADS = ("W1", "W2", "W3")
CLK_TCK = os.sysconf("SC_CLK_TCK")
RESULT_KEYS = {"workload", "backend", "N", "K", "wall_s", "steps_per_s", "p50_ms", "p99_ms"}
STDERR_TAIL_LINES = 40
CORES = os.cpu_count() or 1

Result = dict[str, Any]


class BenchFailed(Exception):
    """A benchmark subprocess failed; carries what to show the user."""


@dataclass(frozen=True)
class Job:
    """One benchmark invocation: which engine, workload and database, with which CLI arguments."""

    side: str  # "legato", "dbos" or "procrastinate"
    workload: str  # "W1", "W2" or "W3"
    db: str  # "sqlite" or "postgres"
    args: tuple[str, ...]

    def command(self) -> list[str]:
        """Same interpreter as ours, so all engines run on the same Python and venv."""
        return [sys.executable, str(SCRIPTS[self.side]), *self.args]


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def log(msg: str) -> None:
    """Progress to stderr; stdout is reserved for JSON lines."""
    print(f"[run] {msg}", file=sys.stderr, flush=True)


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """Last lines of a subprocess's stderr: where a traceback ends up."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def parse_result(stdout: str, job: Job) -> Result:
    """The single JSON result line of a benchmark's stdout, checked for the agreed keys."""
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    if len(lines) != 1:
        raise BenchFailed(f"expected exactly one line on stdout, got {len(lines)}:\n{tail(stdout)}")
    try:
        result = json.loads(lines[0])
    except json.JSONDecodeError as e:
        raise BenchFailed(f"stdout is not JSON ({e}): {lines[0][:500]}") from e
    if not isinstance(result, dict):
        raise BenchFailed(f"result is not a JSON object: {lines[0][:500]}")
    missing = RESULT_KEYS - result.keys()
    if missing:
        raise BenchFailed(f"result lacks keys {sorted(missing)}: {lines[0][:500]}")
    if result["workload"] != job.workload:
        raise BenchFailed(f"expected workload {job.workload}, got {result['workload']!r}")
    if not str(result["backend"]).endswith("-" + job.db):
        raise BenchFailed(f"expected a {job.db} backend, got {result['backend']!r}")
    return result


def run_job(job: Job, timeout_s: float) -> Result:
    """Run one benchmark subprocess from the repo root and return its result line."""
    cmd = job.command()
    log(" ".join(cmd[1:]))
    t0, busy0 = time.perf_counter(), machine_busy_seconds()
    try:
        proc = subprocess.run(
            cmd,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        raise BenchFailed(f"timed out after {timeout_s:.0f}s\n{tail(err)}") from e
    if proc.returncode != 0:
        raise BenchFailed(f"exit code {proc.returncode}\n{tail(proc.stderr)}")
    try:
        result = parse_result(proc.stdout, job)
    except BenchFailed as e:
        raise BenchFailed(f"{e}\n--- stderr tail ---\n{tail(proc.stderr)}") from e
    elapsed, busy = time.perf_counter() - t0, machine_busy_seconds() - busy0
    log(f"  done in {elapsed:.1f}s; machine busy {busy:.1f} CPU-s of {elapsed * CORES:.1f}")
    return result


def median_of(results: list[Result], key: str) -> float | None:
    """Median over repeats of one numeric field; None when that side did not run."""
    values = [float(r[key]) for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def ratio(num: float | None, den: float | None) -> float | None:
    """num/den rounded, or None when either side is missing (e.g. --only)."""
    if num is None or den is None or den == 0:
        return None
    return round(num / den, 3)


def rounded(x: float | None, digits: int = 3) -> float | None:
    """Round for display without turning None into a number."""
    return None if x is None else round(x, digits)


def summarise(workload: str, db: str, by_side: dict[str, list[Result]]) -> Result:
    """One summary line per (database, workload): medians per engine and Legato's ratios."""
    legato, dbos = by_side.get("legato", []), by_side.get("dbos", [])
    procrastinate = by_side.get("procrastinate", [])
    head: Result = {
        "workload": workload,
        "db": db,
        "summary": True,
        "repeats": max(len(v) for v in by_side.values()),
    }
    if workload in ("W1", "W2"):
        l_sps, d_sps = median_of(legato, "steps_per_s"), median_of(dbos, "steps_per_s")
        head |= {
            "legato_steps_per_s": rounded(l_sps, 2),
            "dbos_steps_per_s": rounded(d_sps, 2),
            "ratio_steps_per_s": ratio(l_sps, d_sps),  # Legato / DBOS
        }
        if workload == "W2" and db == "postgres":
            p_jps = median_of(procrastinate, "steps_per_s")
            head |= {
                "procrastinate_jobs_per_s": rounded(p_jps, 2),
                "ratio_legato_procrastinate": ratio(l_sps, p_jps),
            }
        return head
    l_p50, d_p50 = median_of(legato, "p50_ms"), median_of(dbos, "p50_ms")
    return head | {
        "legato_p50_ms": rounded(l_p50),
        "legato_p99_ms": rounded(median_of(legato, "p99_ms")),
        "dbos_p50_ms": rounded(d_p50),
        "dbos_p99_ms": rounded(median_of(dbos, "p99_ms")),
        "speedup_p50": ratio(d_p50, l_p50),  # DBOS p50 / Legato p50
    }


def plan(args: argparse.Namespace) -> list[Job]:
    """All jobs in run order: per database and workload, repeats with the engines alternating."""
    dbos_extra: tuple[str, ...] = ()
    if args.dbos_mode:
        dbos_extra += ("--mode", args.dbos_mode)
    if args.dbos_journal:
        dbos_extra += ("--journal", args.dbos_journal)
    workloads = {
        "W1": ("w1", "--n", str(args.n), "--k", str(args.k)),
        "W2": ("w2", "--n", str(args.fan)),
        "W3": ("w3", "--n", str(args.m)),
    }
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    jobs: list[Job] = []
    for db in dbs:
        for workload, wargs in workloads.items():
            sides = ["legato", "dbos"] + (
                ["procrastinate"] if (workload, db) == ("W2", "postgres") else []
            )
            if args.only:
                sides = [s for s in sides if s == args.only]
            for _ in range(args.repeat):
                for side in sides:
                    extra = dbos_extra if side == "dbos" else ()
                    if db == "postgres":
                        extra += ("--db", args.pg_url)
                    jobs.append(Job(side, workload, db, wargs + extra))
    return jobs


def check_postgres(url: str) -> str | None:
    """None if the server answers; otherwise why not, so we fail before running anything."""
    import psycopg  # only PostgreSQL runs need it

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return str(e).strip()
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Sizes default to the published benchmark; --smoke overrides them for CI."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="N=10 K=3 F=50 M=10, 1 repeat (CI)")
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    p.add_argument(
        "--pg-url",
        default=pgdb.server_url(),
        help="PostgreSQL server for --db postgres|both (default %(default)s)",
    )
    p.add_argument("--n", type=int, default=None, help="W1 workflows started together (200)")
    p.add_argument("--k", type=int, default=None, help="W1 steps per workflow (10)")
    p.add_argument("--fan", type=int, default=None, help="W2 parallel steps (1000)")
    p.add_argument("--m", type=int, default=None, help="W3 sequential workflows (200)")
    p.add_argument("--repeat", type=int, default=None, help="runs of each benchmark (3)")
    p.add_argument("--only", choices=ENGINES, default=None)
    p.add_argument(
        "--dbos-mode",
        choices=["sync", "async"],
        default=None,
        help="passed to dbos_bench.py --mode (its default: sync; W2 is always async)",
    )
    p.add_argument(
        "--dbos-journal",
        choices=["wal", "delete"],
        default=None,
        help="passed to dbos_bench.py --journal (its default: wal; SQLite only)",
    )
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per benchmark run")
    p.add_argument("--out", type=Path, default=None, help="also write all JSON lines here")
    args = p.parse_args(argv)
    small, full = (10, 3, 50, 10, 1), (200, 10, 1000, 200, 3)
    defaults = small if args.smoke else full
    for name, default in zip(("n", "k", "fan", "m", "repeat"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.db != "sqlite" and not pgdb.is_postgres(args.pg_url):
        p.error("--pg-url takes a postgresql:// URL")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every job, echo results as they come, then print the summaries."""
    args = parse_args(argv)
    jobs = plan(args)
    if not jobs:
        log(f"nothing to run: --only {args.only} has no workload on --db {args.db}")
        return 2
    for side in {j.side for j in jobs}:
        if not SCRIPTS[side].exists():
            log(f"{SCRIPTS[side]} does not exist (use --only to run another engine)")
            return 2
    if any(j.db == "postgres" for j in jobs):
        problem = check_postgres(args.pg_url)
        if problem is not None:
            log(f"PostgreSQL at {args.pg_url} is not reachable: {problem}")
            return 2
    lines: list[Result] = []
    results: dict[tuple[str, str], dict[str, list[Result]]] = {}
    for job in jobs:
        try:
            result = run_job(job, args.timeout)
        except BenchFailed as e:
            log(f"FAILED: {' '.join(job.command())}\n{e}")
            return 1
        print(json.dumps(result), flush=True)
        lines.append(result)
        results.setdefault((job.db, job.workload), {}).setdefault(job.side, []).append(result)
    for (db, workload), by_side in results.items():
        summary = summarise(workload, db, by_side)
        print(json.dumps(summary), flush=True)
        lines.append(summary)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("".join(json.dumps(r) + "\n" for r in lines))
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
