"""The app of the recovery tests, run by ``legato dev`` (``PYTHONPATH`` = this folder): a chain of
STEPS steps whose every run is logged (``RECOVERY_LOG``: execution, step, attempt, pid).

From step GATE_STEP on, a step waits (after logging) until the file ``RECOVERY_GATE`` exists,
so the test can hold every execution in flight, kill the engine, open the gate and restart
it. The lease is ``RECOVERY_LEASE_SECONDS`` (the tests make it far longer than their
deadlines: only a takeover of the dead engine's leases can let the restart finish in time)."""

from __future__ import annotations

import asyncio
import os

import legato

STEPS = 4
GATE_STEP = 2

app = legato.App(lease_seconds=float(os.environ.get("RECOVERY_LEASE_SECONDS", "30")))


@app.step
async def tick(execution: str, step: int) -> int:
    ctx = legato.step_context()
    line = f"{execution} {step} {ctx.attempt} {os.getpid()}\n"
    fd = os.open(os.environ["RECOVERY_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    gate = os.environ.get("RECOVERY_GATE")
    while step >= GATE_STEP and gate and not os.path.exists(gate):
        await asyncio.sleep(0.02)
    return step


@app.workflow(name="chain")
async def chain(ctx: legato.Context, execution: str) -> int:
    total = 0
    for step in range(STEPS):
        total += await ctx.step(tick, execution, step)
    return total
