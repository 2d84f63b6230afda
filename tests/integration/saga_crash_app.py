"""The app the saga crash test kills: 20 executions of a saga whose third step fails for good,
so the compensations of its first two steps run, most recent first. Every step appends
``execution:step`` to a log (a side effect, at least once) and, keyed by its idempotency key,
records an effect at most once (a file linked into place): what an idempotent step looks like.

Run as ``python saga_crash_app.py DB_URL LOG EFFECTS RESULTS``. With ``CRASH_GATE`` set, the last
compensation of every execution waits until that file exists (the test opens it after its
kills). Random draws are seeded from ``LEGATO_TEST_SEED`` and ``LEGATO_TEST_PROCESS``."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time

import legato

EXECUTIONS = 20
app = legato.App(lease_seconds=1.0)
LOG_PATH = "steps.log"
EFFECTS = "effects"
GATE = os.environ.get("CRASH_GATE")
SEED = os.environ.get("LEGATO_TEST_SEED")
rng = random.Random(f"{SEED}/{os.environ.get('LEGATO_TEST_PROCESS')}") if SEED else random.Random()


def _append(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


async def _effect(execution: str, name: str) -> None:
    _append(LOG_PATH, f"{execution}:{name}")
    key = legato.step_context().idempotency_key.replace("/", "_").replace(":", "_")
    # The effect itself, once per idempotency key whatever the re-runs: its record is written
    # aside, then linked into place, which fails if a run before this one did it (a kill
    # anywhere in between leaves only a stray ".tmp" file).
    draft = os.path.join(EFFECTS, f".{key}.{os.getpid()}.tmp")
    with open(draft, "w") as f:
        f.write(f"{time.monotonic_ns()} {execution}:{name}")
    try:
        os.link(draft, os.path.join(EFFECTS, key))
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    await asyncio.sleep(rng.uniform(0.05, 0.15))  # a kill now leaves the effect, unrecorded


@app.step
async def reserve(execution: str) -> str:
    await _effect(execution, "reserve")
    return "R"


@app.step
async def release(execution: str) -> None:
    await _effect(execution, "release")
    if GATE:
        while not os.path.exists(GATE):
            await asyncio.sleep(0.05)


@app.step
async def charge(execution: str) -> str:
    await _effect(execution, "charge")
    return "C"


@app.step
async def refund(execution: str) -> None:
    await _effect(execution, "refund")


@app.step(retry=legato.Retry(max_attempts=1))
async def ship(execution: str) -> str:
    await _effect(execution, "ship")
    raise legato.NonRetryableError("warehouse refused the order")


@app.workflow(name="order_saga")
async def order_saga(ctx: legato.Context, execution: str) -> str:
    await ctx.step(reserve, execution, compensate=release)
    await ctx.step(charge, execution, compensate=refund)
    result: str = await ctx.step(ship, execution)
    return result


async def main(url: str, results_path: str) -> None:
    app.configure(url=url)
    async with app:
        handles = [await app.start(order_saga, f"e{i}", id=f"e{i}") for i in range(EXECUTIONS)]
        results = []
        for h in handles:
            try:
                results.append(await h.result())
            except legato.ExecutionFailedError as exc:
                results.append(f"{exc.status} {exc.error_type}")
    with open(results_path, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    LOG_PATH, EFFECTS = sys.argv[2], sys.argv[3]
    os.makedirs(EFFECTS, exist_ok=True)
    asyncio.run(main(sys.argv[1], sys.argv[4]))
