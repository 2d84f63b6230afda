"""The app the CLI tests name with ``--app cli_app``: a workflow that adds, one that waits for a
signal, and one whose step keeps failing with an hour's backoff (it stays retrying)."""

from __future__ import annotations

from typing import Any

import legato

app = legato.App()


@app.step
async def add(a: int, b: int) -> int:
    return a + b


@app.workflow(name="adder")
async def adder(ctx: legato.Context, a: int) -> int:
    return await ctx.step(add, a, 1)  # type: ignore[no-any-return]


@app.workflow(name="waiter")
async def waiter(ctx: legato.Context, tag: str) -> dict[str, Any]:
    got = await ctx.wait_for_signal("go")
    return {"tag": tag, "got": got}


@app.step(retry=legato.Retry(max_attempts=50, initial=3600, backoff=2, max_interval=86_400))
async def flaky(n: int) -> int:
    raise ConnectionError(f"refused {n}")


@app.workflow(name="stubborn")
async def stubborn(ctx: legato.Context, n: int) -> int:
    return await ctx.step(flaky, n)  # type: ignore[no-any-return]
