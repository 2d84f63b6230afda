"""The app of the graceful-stop tests: ``batch`` runs one step, then another. Each attempt
appends ``KEY ATTEMPT PID`` to ``$STARTED_LOG`` when it starts, and ``KEY`` to ``$DONE_LOG``
(its side effect) when it ends, so the test can count runs and side effects. A step takes
``$STEP_SECONDS`` if set, else it waits until the file ``$GATE`` exists (the test opens it).
``$SHUTDOWN_LEASE`` sets the lease (default 30 s)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import legato

app = legato.App(lease_seconds=float(os.environ.get("SHUTDOWN_LEASE", "30")))


def _append(variable: str, line: str) -> None:
    fd = os.open(os.environ[variable], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


def _started() -> str:
    ctx = legato.step_context()
    _append("STARTED_LOG", f"{ctx.idempotency_key} {ctx.attempt} {os.getpid()}")
    return ctx.idempotency_key


def _open() -> bool:
    return "STEP_SECONDS" not in os.environ and Path(os.environ["GATE"]).exists()


@app.step
async def slow(tag: str) -> str:
    key = _started()
    if "STEP_SECONDS" in os.environ:
        await asyncio.sleep(float(os.environ["STEP_SECONDS"]))
    while "STEP_SECONDS" not in os.environ and not _open():
        await asyncio.sleep(0.02)
    _append("DONE_LOG", key)
    return tag


@app.step
def slow_sync(tag: str) -> str:
    key = _started()
    if "STEP_SECONDS" in os.environ:
        time.sleep(float(os.environ["STEP_SECONDS"]))
    while "STEP_SECONDS" not in os.environ and not _open():
        time.sleep(0.02)
    _append("DONE_LOG", key)
    return tag


@app.workflow(name="batch")
async def batch(ctx: legato.Context, tag: str, sync: bool = False) -> list[str]:
    step = slow_sync if sync else slow
    first = await ctx.step(step, f"{tag}-a")
    second = await ctx.step(step, f"{tag}-b")
    return [first, second]
